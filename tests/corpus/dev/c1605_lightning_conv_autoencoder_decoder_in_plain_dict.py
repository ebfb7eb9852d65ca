import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_decoder(latent_channels, out_channels, kernel_size):
    """Mirror of the encoder: two transposed convolutions, looked up by name in forward."""
    return {
        "up": nn.ConvTranspose1d(latent_channels, latent_channels, kernel_size, stride=2, padding=1, output_padding=1),
        "out": nn.ConvTranspose1d(latent_channels, out_channels, kernel_size, padding=1),
    }


class SensorAutoencoder(pl.LightningModule):
    def __init__(self, in_channels=3, latent_channels=8, kernel_size=3, lr=5e-3):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = nn.Sequential(
            nn.Conv1d(in_channels, latent_channels, kernel_size, padding=1), nn.ReLU(),
            nn.Conv1d(latent_channels, latent_channels, kernel_size, stride=2, padding=1), nn.ReLU())
        self.decoder_layers = make_decoder(latent_channels, in_channels, kernel_size)
        self.lr = lr

    def forward(self, x):
        z = self.encoder(x)
        h = F.relu(self.decoder_layers["up"](z))
        return self.decoder_layers["out"](h), z

    def training_step(self, batch, batch_idx):
        (x,) = batch
        recon, _ = self(x)
        loss = F.mse_loss(recon, x)
        self.log("train/recon", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)}


def main():
    pl.seed_everything(11)
    g = torch.Generator().manual_seed(11)
    t = torch.linspace(0, 6.28, 32)
    x = torch.stack([torch.sin(t * (1 + k)) for k in range(3)]).unsqueeze(0) + 0.1 * torch.randn(48, 3, 32, generator=g)
    loader = DataLoader(TensorDataset(x), batch_size=12, shuffle=True, generator=g)
    model = SensorAutoencoder()
    up = model.decoder_layers["up"]
    up0 = up.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    opt = model.optimizers()
    return ({"model": model, "decoder_up_weight": up.weight},
            {"decoder_changed": not torch.equal(up0, up.weight),
             "decoder_in_optimizer": any(p is up.weight for grp in opt.param_groups for p in grp["params"])})

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
