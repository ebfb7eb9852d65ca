import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ConditionEncoder(nn.Module):
    def __init__(self, n_cond=4, n_film=6):
        super().__init__()
        self.embed = nn.Embedding(n_cond, 16)
        self.to_gamma = nn.Linear(16, n_film)

    def forward(self, cond):
        return 1.0 + torch.tanh(self.to_gamma(self.embed(cond)))


class FiLMConvBlock(nn.Module):
    """Modulates only the first `n_film` channels of the feature map (partial FiLM)."""

    def __init__(self, ch=12, n_film=6):
        super().__init__()
        self.conv = nn.Conv2d(3, ch, 3, 1, 1)
        self.n_film = n_film

    def forward(self, x, gamma):
        h = self.conv(x)
        h[:, :self.n_film] = h[:, :self.n_film] * gamma[:, :, None, None]
        return F.relu(h)


class ConditionalDenoiser(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.cond = ConditionEncoder()
        self.block = FiLMConvBlock()
        self.out = nn.Conv2d(12, 3, 3, 1, 1)

    def forward(self, x, cond):
        return self.out(self.block(x, self.cond(cond)))

    def training_step(self, batch, batch_idx):
        noisy, cond, clean = batch
        loss = F.mse_loss(self(noisy, cond), clean)
        self.log("train/mse", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.9), "interval": "step"}}


def main():
    pl.seed_everything(0)
    clean = torch.rand(16, 3, 8, 8)
    cond = torch.randint(0, 4, (16,))
    loader = DataLoader(TensorDataset(clean + 0.1 * torch.randn_like(clean), cond, clean), batch_size=4, shuffle=True)
    model = ConditionalDenoiser()
    pl.Trainer(max_epochs=1, logger=False).fit(model, loader)
    return {"model": model}

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
