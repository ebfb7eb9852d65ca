import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed

CFG = {"n_init": 24, "img": 20, "lr": 1e-2, "epochs": 3, "densify_after_epoch": 0, "grad_threshold": 0.0}


class GaussianField(nn.Module):
    def __init__(self, n):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self.means = nn.Parameter(torch.rand(n, 2, generator=g) * 2 - 1)
        self.log_scales = nn.Parameter(torch.full((n, 2), math.log(0.2)))
        self.colors = nn.Parameter(torch.zeros(n, 3))

    def forward(self, pix):
        d = pix[:, None] - self.means[None]
        w = torch.exp(-0.5 * (d / self.log_scales.exp()[None]).pow(2).sum(-1))
        return (w @ torch.sigmoid(self.colors)) / (w.sum(-1, keepdim=True) + 1e-3)


@torch.no_grad()
def densify_and_clone(field, grad_accum, threshold):
    """Clone Gaussians with large view-space gradients (adaptive density control)."""
    selected = grad_accum >= threshold
    field.means = nn.Parameter(torch.cat([field.means, field.means[selected] + 0.01]))
    field.log_scales = nn.Parameter(torch.cat([field.log_scales, field.log_scales[selected]]))
    field.colors = nn.Parameter(torch.cat([field.colors, field.colors[selected]]))
    return int(selected.sum())


def main():
    set_seed(0)
    accelerator = Accelerator()
    H = CFG["img"]
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, H), torch.linspace(-1, 1, H), indexing="ij")
    pix = torch.stack([xs, ys], -1).reshape(-1, 2)
    target = torch.stack([(xs > 0).float(), (ys > 0).float(), (xs ** 2 + ys ** 2 < 0.5).float()], -1).reshape(-1, 3)
    field = GaussianField(CFG["n_init"])
    optimizer = torch.optim.Adam(field.parameters(), lr=CFG["lr"])
    loader = DataLoader(TensorDataset(pix, target), batch_size=100, shuffle=True, generator=torch.Generator().manual_seed(0))
    field, optimizer, loader = accelerator.prepare(field, optimizer, loader)
    n_cloned, colors_after_densify = 0, None
    for epoch in range(CFG["epochs"]):
        grad_accum = torch.zeros(field.means.shape[0])
        for p, t in loader:
            loss = F.l1_loss(field(p), t)
            optimizer.zero_grad()
            accelerator.backward(loss)
            grad_accum += field.means.grad.norm(dim=-1)
            optimizer.step()
        if epoch == CFG["densify_after_epoch"]:
            n_cloned = densify_and_clone(field, grad_accum, CFG["grad_threshold"])
            colors_after_densify = field.colors.detach().clone()
    return {"field": field}, {
        "num_gaussians": field.means.shape[0],
        "colors_changed_after_densify": not torch.equal(colors_after_densify, field.colors),
        "optimizer_holds_current_means": any(p is field.means for g in optimizer.param_groups for p in g["params"]),
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
