import torch
import torch.nn as nn
import torch.nn.functional as F


class GaussianModel(nn.Module):
    def __init__(self, n=32):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self.xyz = nn.Parameter(torch.rand(n, 3, generator=g) * 2 - 1)
        self.log_scale = nn.Parameter(torch.full((n,), -2.0))
        self.rgb = nn.Parameter(torch.rand(n, 3, generator=g))
        self.opacity_logit = nn.Parameter(torch.zeros(n))


def render(gaussians, rotation, image_size=12):
    """Project the centers, splat isotropic 2-D Gaussians, alpha-blend; returns the image and the screen-space means."""
    cam = gaussians.xyz @ rotation.t()
    means2D = cam[:, :2] / (3.0 + cam[:, 2:3])
    lin = torch.linspace(-1, 1, image_size)
    pix = torch.stack(torch.meshgrid(lin, lin, indexing="ij"), -1).view(-1, 2)
    d2 = ((pix[:, None] - means2D[None]) ** 2).sum(-1)
    alpha = torch.sigmoid(gaussians.opacity_logit) * torch.exp(-d2 / (2 * torch.exp(gaussians.log_scale) ** 2))
    img = (alpha @ gaussians.rgb) / (alpha.sum(-1, keepdim=True) + 1e-2)
    return img.view(image_size, image_size, 3), means2D


class GaussianTrainer:
    def __init__(self, gaussians, cfg):
        self.g = gaussians
        self.cfg = cfg
        self.optimizer = torch.optim.Adam(gaussians.parameters(), lr=cfg["lr"])
        self.grad_accum = torch.zeros(gaussians.xyz.size(0))
        self.denom = torch.zeros(gaussians.xyz.size(0))
        self.n_densified = 0

    def add_densification_stats(self, means2D):
        grad = means2D.grad
        if grad is None:
            return
        self.grad_accum += grad.norm(dim=-1)
        self.denom += 1

    def densify(self):
        avg = self.grad_accum / self.denom.clamp(min=1)
        mask = avg > self.cfg["densify_grad_threshold"]
        self.n_densified += int(mask.sum())
        self.grad_accum.zero_()
        self.denom.zero_()

    def step(self, rotation, target, it):
        img, means2D = render(self.g, rotation)
        loss = F.l1_loss(img, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.add_densification_stats(means2D)
        self.optimizer.step()
        if (it + 1) % self.cfg["densify_every"] == 0:
            self.densify()
        return loss.item()


def views(n=8, image_size=12):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        a = torch.rand(1, generator=g).item() * 6.28
        rot = torch.tensor([[1.0, 0, 0], [0, torch.cos(torch.tensor(a)), -torch.sin(torch.tensor(a))],
                            [0, torch.sin(torch.tensor(a)), torch.cos(torch.tensor(a))]])
        out.append((rot, torch.rand(image_size, image_size, 3, generator=g)))
    return out


def main():
    torch.manual_seed(0)
    gaussians = GaussianModel()
    trainer = GaussianTrainer(gaussians, {"lr": 1e-2, "densify_every": 4, "densify_grad_threshold": 1e-6})
    xyz0 = gaussians.xyz.detach().clone()
    for it, (rot, target) in enumerate(views()):
        trainer.step(rot, target, it)
    return {"gaussians": gaussians}, {
        "gaussians_densified": trainer.n_densified > 0,
        "xyz_changed": not torch.equal(xyz0, gaussians.xyz),
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
