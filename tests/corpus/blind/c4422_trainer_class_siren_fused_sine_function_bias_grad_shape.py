import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"hidden": 32, "layers": 3, "omega_0": 30.0, "lr": 1e-4, "epochs": 3, "bs": 64}


class FusedSineLinear(torch.autograd.Function):
    """y = sin(omega * (x @ W^T + b)) in one op; backward recomputes the pre-activation."""

    @staticmethod
    def forward(ctx, x, weight, bias, omega):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        ctx.omega = omega
        return torch.sin(omega * pre)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        g = grad_out * ctx.omega * torch.cos(ctx.omega * pre)     # dL/dpre, N x out
        grad_x = g @ weight
        grad_w = g.t() @ x
        grad_b = g.sum(dim=1)
        return grad_x, grad_w, grad_b, None


class SirenLayer(nn.Module):
    def __init__(self, fan_in, fan_out, omega_0, first=False):
        super().__init__()
        self.omega_0 = omega_0
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in))
        self.bias = nn.Parameter(torch.zeros(fan_out))
        bound = 1 / fan_in if first else math.sqrt(6 / fan_in) / omega_0
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x):
        return FusedSineLinear.apply(x, self.weight, self.bias, self.omega_0)


class SDFSiren(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dims = [3] + [cfg["hidden"]] * cfg["layers"]
        self.layers = nn.ModuleList([SirenLayer(a, b, cfg["omega_0"], first=i == 0)
                                     for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]))])
        self.out = nn.Linear(cfg["hidden"], 1)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.out(x).squeeze(-1)


class SDFTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.history = []

    def sphere_samples(self, n, g):
        pts = torch.rand(n, 3, generator=g) * 2 - 1
        return pts, pts.norm(dim=-1) - 0.5

    def step(self, pts, sdf):
        loss = F.l1_loss(self.model(pts), sdf)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self):
        g = torch.Generator().manual_seed(0)
        for epoch in range(self.cfg["epochs"]):
            pts, sdf = self.sphere_samples(256, g)
            for i in range(0, len(pts), self.cfg["bs"]):
                self.history.append(self.step(pts[i:i + self.cfg["bs"]], sdf[i:i + self.cfg["bs"]]))
        return self.history


def main():
    torch.manual_seed(0)
    model = SDFSiren(CFG)
    trainer = SDFTrainer(model, CFG)
    w0 = model.layers[0].weight.detach().clone()
    trainer.fit()
    return {"model": model}, {"first_layer_changed": not torch.equal(w0, model.layers[0].weight)}

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
