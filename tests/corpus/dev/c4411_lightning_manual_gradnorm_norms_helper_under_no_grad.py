import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 12, "hidden": 32, "alpha": 1.5, "lr": 1e-3, "lr_weights": 2.5e-2, "tasks": ("depth", "normals")}


class SharedTrunk(nn.Module):
    def __init__(self, d_in, d):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU())
        self.last_shared = nn.Linear(d, d)

    def forward(self, x):
        return F.relu(self.last_shared(self.body(x)))


@torch.no_grad()
def task_grad_norms(weighted_losses, shared_weight):
    """G_i = || d(w_i L_i) / dW || on the last shared layer, as in the GradNorm paper."""
    norms = []
    for loss in weighted_losses:
        g = torch.autograd.grad(loss, shared_weight, retain_graph=True, create_graph=True)[0]
        norms.append(g.norm())
    return torch.stack(norms)


class GradNormMTL(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.cfg = cfg
        self.trunk = SharedTrunk(cfg["in_dim"], cfg["hidden"])
        self.heads = nn.ModuleDict({t: nn.Linear(cfg["hidden"], 1) for t in cfg["tasks"]})
        self.task_weights = nn.Parameter(torch.ones(len(cfg["tasks"])))
        self.initial_losses = None

    def forward(self, x):
        z = self.trunk(x)
        return {t: head(z).squeeze(-1) for t, head in self.heads.items()}

    def training_step(self, batch, batch_idx):
        opt_model, opt_weights = self.optimizers()
        x, y_depth, y_normals = batch
        out = self(x)
        losses = torch.stack([F.mse_loss(out["depth"], y_depth), F.mse_loss(out["normals"], y_normals)])
        if self.initial_losses is None:
            self.initial_losses = losses.detach()
        weighted = self.task_weights * losses
        opt_model.zero_grad()
        self.manual_backward(weighted.sum(), retain_graph=True)

        norms = task_grad_norms(list(weighted), self.trunk.last_shared.weight)
        ratios = losses.detach() / self.initial_losses
        target = (norms.mean() * (ratios / ratios.mean()) ** self.cfg["alpha"]).detach()
        gradnorm_loss = (norms - target).abs().sum()
        self.task_weights.grad = torch.autograd.grad(gradnorm_loss, self.task_weights)[0]
        opt_model.step()
        opt_weights.step()
        with torch.no_grad():
            self.task_weights.mul_(len(self.cfg["tasks"]) / self.task_weights.sum())
        self.log("gradnorm_loss", gradnorm_loss.item())

    def configure_optimizers(self):
        model_params = [p for n, p in self.named_parameters() if n != "task_weights"]
        return [torch.optim.Adam(model_params, lr=self.cfg["lr"]),
                torch.optim.Adam([self.task_weights], lr=self.cfg["lr_weights"])]


def nyu_like_loader(n=32, d=12):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    return DataLoader(TensorDataset(x, x[:, :3].sum(-1), 10 * x[:, 3:6].prod(-1)), batch_size=8, shuffle=True,
                      generator=g)


def main():
    pl.seed_everything(0)
    model = GradNormMTL(CFG)
    w0 = model.task_weights.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, nyu_like_loader())
    return {"model": model}, {"task_weights_changed": not torch.equal(w0, model.task_weights.detach())}

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
