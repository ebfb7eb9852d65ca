import torch
import torch.nn as nn


class Splats2D(nn.Module):
    def __init__(self, n=12, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        init_means = torch.rand(n, 2, generator=g)
        self.means = nn.Parameter(init_means).double()
        self.log_scales = nn.Parameter(torch.full((n, 2), -2.0, dtype=torch.float64))
        self.colors = nn.Parameter(torch.rand(n, 3, generator=g).double())
        self.opacity_logits = nn.Parameter(torch.zeros(n, dtype=torch.float64))

    def render(self, grid):
        diff = grid[:, None, :] - self.means[None]
        inv_var = torch.exp(-2 * self.log_scales)[None]
        weights = torch.exp(-0.5 * (diff ** 2 * inv_var).sum(-1)) * torch.sigmoid(self.opacity_logits)[None]
        return (weights[..., None] * self.colors[None]).sum(1) / (weights.sum(1, keepdim=True) + 1e-6)


def make_grid(res=10):
    ys, xs = torch.meshgrid(torch.linspace(0, 1, res), torch.linspace(0, 1, res), indexing="ij")
    return torch.stack([xs, ys], -1).reshape(-1, 2).double()


def target_image(grid):
    r = torch.sigmoid(10 * (grid[:, :1] - 0.5))
    return torch.cat([r, 1 - r, 0.5 * torch.ones_like(r)], 1)


def densify_stats(model, stats):
    # accumulated for the densification heuristic; reads the positional gradient when there is one
    g = getattr(model.means, "grad", None)
    if g is not None:
        stats += g.norm(dim=-1)
    return stats


def psnr(model, grid, target):
    with torch.no_grad():
        mse = ((model.render(grid) - target) ** 2).mean()
    return float(-10 * torch.log10(mse))


def main():
    torch.manual_seed(0)
    model = Splats2D()
    grid = make_grid()
    target = target_image(grid)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.97)
    m0 = model.means.detach().clone()
    stats = torch.zeros(12, dtype=torch.float64)
    for it in range(15):
        loss = (model.render(grid) - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        stats = densify_stats(model, stats)
        optimizer.step()
        scheduler.step()
    facts = {"means_changed": not torch.equal(m0, model.means.detach()), "means_is_leaf": model.means.is_leaf,
             "means_registered": any(n == "means" for n, _ in model.named_parameters())}
    return {"means": model.means, "model": model}, facts

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
