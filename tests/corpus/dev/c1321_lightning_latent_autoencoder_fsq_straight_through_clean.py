import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FSQ(nn.Module):
    """Finite scalar quantization: bound each latent channel, round to a few levels, straight-through."""

    def __init__(self, levels=(5, 5, 3)):
        super().__init__()
        self.register_buffer("half_range", (torch.tensor(levels, dtype=torch.float32) - 1) / 2)

    def forward(self, z):
        bounded = torch.tanh(z) * self.half_range
        quantized = torch.round(bounded)
        return bounded + (quantized - bounded).detach()


class LatentAutoencoder(pl.LightningModule):
    def __init__(self, in_dim=24, latent=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 32), nn.GELU(), nn.Linear(32, latent))
        self.quantizer = FSQ()
        self.decoder = nn.Sequential(nn.Linear(latent, 32), nn.GELU(), nn.Linear(32, in_dim))

    def forward(self, x):
        return self.decoder(self.quantizer(self.encoder(x)))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        loss = F.mse_loss(self(x), x)
        self.log("recon", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        (x,) = batch
        codes = torch.round(torch.tanh(self.encoder(x)) * self.quantizer.half_range)
        self.log("codes_used", float(torch.unique(codes, dim=0).size(0)))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=3e-3)


def make_loaders():
    g = torch.Generator().manual_seed(12)
    x = torch.randn(48, 3, generator=g) @ torch.randn(3, 24, generator=g)
    ds = TensorDataset(x)
    return DataLoader(ds, batch_size=12, shuffle=True, generator=g), DataLoader(ds, batch_size=24)


def main():
    pl.seed_everything(0)
    model = LatentAutoencoder()
    enc0 = model.encoder[0].weight.detach().clone()
    train_loader, val_loader = make_loaders()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, train_loader, val_loader)
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.encoder[0].weight)}

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
