import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvEncoder(nn.Module):
    def __init__(self, latent=8):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(1, 4, 5, stride=2, padding=2), nn.ReLU(), nn.Conv1d(4, 8, 5, stride=2, padding=2), nn.ReLU())
        self.fc = nn.Linear(8 * 8, latent)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class ConvDecoder(nn.Module):
    def __init__(self, latent=8):
        super().__init__()
        self.fc = nn.Linear(latent, 8 * 8)
        self.deconv = nn.Sequential(nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1), nn.ReLU(),
                                    nn.ConvTranspose1d(4, 1, 4, stride=2, padding=1))

    def forward(self, z):
        return self.deconv(self.fc(z).view(-1, 8, 8))


class SignalAutoencoder(pl.LightningModule):
    def __init__(self, latent=8, n_classes=3, aux_weight=0.5):
        super().__init__()
        self.encoder = ConvEncoder(latent)
        self.decoder = ConvDecoder(latent)
        self.classifier = nn.Linear(latent, n_classes)
        self.aux_weight = aux_weight

    def training_step(self, batch, batch_idx):
        x, y = batch
        z = self.encoder(x)
        loss = F.mse_loss(self.decoder(z), x) + self.aux_weight * F.cross_entropy(self.classifier(z), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        params = list(self.encoder.parameters()) + list(self.classifier.parameters())
        optimizer = torch.optim.AdamW(params, lr=2e-3, weight_decay=1e-4)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
        return [optimizer], [scheduler]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(20)
    t = torch.linspace(0, 6.28, 32)
    freqs = torch.randint(1, 4, (40,), generator=g)
    x = torch.sin(freqs[:, None].float() * t)[:, None, :] + 0.05 * torch.randn(40, 1, 32, generator=g)
    loader = DataLoader(TensorDataset(x, freqs - 1), batch_size=8, shuffle=True, generator=g)
    model = SignalAutoencoder()
    dec0 = model.decoder.fc.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"decoder_changed": not torch.equal(dec0, model.decoder.fc.weight)}

# ---- ground-truth harness (not part of the reported pattern) ----
if __name__ == "__main__":
    import json as _json, time as _time, warnings as _warnings
    import torch as _torch
    _err, _watched, _facts = None, {}, {}
    _torch.optim.SGD([_torch.zeros(1, requires_grad=True)], lr=0.1)  # warm lazy imports outside the timed region
    with _warnings.catch_warnings(record=True) as _w:
        _warnings.simplefilter("always")
        _t0 = _time.perf_counter()
        try:
            _out = main()
            if isinstance(_out, tuple):
                _watched, _facts = _out
            elif _out is not None:
                _watched = _out
        except Exception as _e:
            _err = (type(_e).__name__ + ": " + str(_e)).splitlines()[0][:300]
        _main_s = round(_time.perf_counter() - _t0, 3)
    _warns = sorted({(_m.category.__name__ + ": " + str(_m.message)).splitlines()[0][:200] for _m in _w})
    _states = {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for _name, _obj in _watched.items():
            if isinstance(_obj, _torch.nn.Module):
                _items = [(_name + "." + _n, _p) for _n, _p in _obj.named_parameters()]
            else:
                _items = [(_name, _obj)]
            for _n, _t in _items:
                _g = _t.grad
                _states[_n] = "none" if _g is None else ("ok" if bool(_g.abs().sum() > 0) else "zero")
    print(_json.dumps({
        "grad_none": sorted(k for k, v in _states.items() if v == "none"),
        "grad_zero": sorted(k for k, v in _states.items() if v == "zero"),
        "grad_ok": sorted(k for k, v in _states.items() if v == "ok"),
        "error": _err,
        "warnings": _warns,
        "facts": _facts,
        "main_seconds": _main_s,
        "torch": _torch.__version__,
    }, sort_keys=True))
