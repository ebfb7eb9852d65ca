import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CFG = {"alpha": 1.5, "lr": 1e-3, "lr_w": 2.5e-2, "hidden": 32, "epochs": 2}


class MultiTaskNet(nn.Module):
    def __init__(self, d_in=10, h=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(d_in, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.last_shared = nn.Linear(h, h)
        self.heads = nn.ModuleList([nn.Linear(h, 1), nn.Linear(h, 1), nn.Linear(h, 1)])

    def forward(self, x):
        z = F.relu(self.last_shared(self.trunk(x)))
        return [head(z).squeeze(-1) for head in self.heads]


class GradNormBalancer(nn.Module):
    def __init__(self, n_tasks, alpha):
        super().__init__()
        self.weights = nn.Parameter(torch.ones(n_tasks))
        self.alpha = alpha
        self.register_buffer("initial", torch.zeros(n_tasks))

    def gradnorm_loss(self, losses, shared_weight):
        if not bool(self.initial.any()):
            self.initial.copy_(losses.detach())
        norms = torch.stack([
            torch.autograd.grad(w * l, shared_weight, retain_graph=True, create_graph=True)[0].norm()
            for w, l in zip(self.weights, losses)])
        ratio = losses.detach() / self.initial
        target = (norms.mean() * (ratio / ratio.mean()) ** self.alpha).detach()
        return (norms - target).abs().sum()

    @torch.no_grad()
    def renormalize(self):
        self.weights.mul_(len(self.weights) / self.weights.sum())


def synthetic_tasks(n=64, d=10):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    ys = (x[:, 0] * 3, x[:, 1:3].sum(-1), 0.1 * x[:, 3] ** 2)
    return DataLoader(TensorDataset(x, *ys), batch_size=16, shuffle=True, generator=g)


def train_one_epoch(model, balancer, opt_model, opt_w, loader, accelerator):
    for x, *targets in loader:
        preds = model(x)
        losses = torch.stack([F.mse_loss(p, t) for p, t in zip(preds, targets)])
        weighted = (balancer.weights.detach() * losses).sum()
        opt_model.zero_grad()
        accelerator.backward(weighted, retain_graph=True)
        gn = balancer.gradnorm_loss(losses, model.last_shared.weight)
        opt_w.zero_grad()
        balancer.weights.grad = torch.autograd.grad(gn, balancer.weights)[0]
        opt_model.step()
        opt_w.step()
        balancer.renormalize()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model, balancer = MultiTaskNet(), GradNormBalancer(3, CFG["alpha"])
    opt_model = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    opt_w = torch.optim.Adam(balancer.parameters(), lr=CFG["lr_w"])
    model, opt_model, opt_w, loader = accelerator.prepare(model, opt_model, opt_w, synthetic_tasks())
    w0 = balancer.weights.detach().clone()
    trunk0 = model.trunk[0].weight.detach().clone()
    for epoch in range(CFG["epochs"]):
        train_one_epoch(model, balancer, opt_model, opt_w, loader, accelerator)
    return {"model": model, "task_weights": balancer.weights}, {
        "task_weights_changed": not torch.equal(w0, balancer.weights.detach()),
        "weights_sum_to_n": abs(float(balancer.weights.sum()) - 3.0) < 1e-4,
        "trunk_changed": not torch.equal(trunk0, model.trunk[0].weight),
    }

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
