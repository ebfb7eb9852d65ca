import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"z_dim": 8, "x_dim": 16, "ema_beta": 0.9, "lr": 2e-3, "epochs": 2}


class EMAGeneratorCallback(pl.Callback):
    """Keeps G_ema = beta * G_ema + (1 - beta) * G after every step (StyleGAN-style generator averaging)."""

    def __init__(self, beta):
        self.beta = beta

    @torch.no_grad()
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        for p_ema, p in zip(pl_module.G_ema.parameters(), pl_module.G.parameters()):
            p_ema.lerp_(p, 1.0 - self.beta)
        for b_ema, b in zip(pl_module.G_ema.buffers(), pl_module.G.buffers()):
            b_ema.copy_(b)


class GANWithEMA(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.G = nn.Sequential(nn.Linear(cfg["z_dim"], 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, cfg["x_dim"]))
        self.D = nn.Sequential(nn.Linear(cfg["x_dim"], 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False).eval()

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        fake = self.G(torch.randn(real.size(0), self.cfg["z_dim"]))
        d_loss = F.softplus(self.D(fake.detach())).mean() + F.softplus(-self.D(real)).mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        g_loss = F.softplus(-self.D(fake)).mean()
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()

    def configure_optimizers(self):
        return [torch.optim.Adam(self.G.parameters(), lr=self.cfg["lr"], betas=(0.5, 0.99)),
                torch.optim.Adam(self.D.parameters(), lr=self.cfg["lr"], betas=(0.5, 0.99))]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, CFG["x_dim"], generator=g) + 1.0), batch_size=16, shuffle=True,
                        generator=g)
    model = GANWithEMA(CFG)
    g0, ema0 = model.G[0].weight.detach().clone(), model.G_ema[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False,
                         callbacks=[EMAGeneratorCallback(CFG["ema_beta"])])
    trainer.fit(model, loader)
    return {"G": model.G, "D": model.D}, {"generator_changed": not torch.equal(g0, model.G[0].weight),
                                          "ema_generator_changed": not torch.equal(ema0, model.G_ema[0].weight)}

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
