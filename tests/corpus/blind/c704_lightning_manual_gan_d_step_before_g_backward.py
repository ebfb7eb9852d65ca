import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class SineGAN(pl.LightningModule):
    def __init__(self, n_ideas=5, n_points=15, lr=1e-3):
        super().__init__()
        self.automatic_optimization = False
        self.G = nn.Sequential(nn.Linear(n_ideas, 64), nn.ReLU(), nn.Linear(64, n_points))
        self.D = nn.Sequential(nn.Linear(n_points, 64), nn.ReLU(), nn.Linear(64, 1), nn.Sigmoid())
        self.n_ideas, self.lr = n_ideas, lr

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.size(0), self.n_ideas)
        fake = self.G(z)

        p_real = self.D(real)
        p_fake = self.D(fake)
        d_loss = -torch.mean(torch.log(p_real + 1e-6) + torch.log(1.0 - p_fake + 1e-6))
        g_loss = torch.mean(torch.log(1.0 - p_fake + 1e-6))

        opt_d.zero_grad()
        self.manual_backward(d_loss, retain_graph=True)
        opt_d.step()

        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.detach(), "g_loss": g_loss.detach()})

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=self.lr),
                torch.optim.Adam(self.D.parameters(), lr=self.lr)]


def make_loader(n=128, n_points=15):
    g = torch.Generator().manual_seed(0)
    x = torch.linspace(-1, 1, n_points)
    a = 1 + torch.rand(n, 1, generator=g)
    paintings = a * torch.sin(x * 3.14159) + (a - 1)
    return DataLoader(TensorDataset(paintings), batch_size=32, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SineGAN()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
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
