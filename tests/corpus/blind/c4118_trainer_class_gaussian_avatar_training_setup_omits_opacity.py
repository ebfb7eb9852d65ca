import torch
import torch.nn as nn
import torch.nn.functional as F


def inverse_sigmoid(x):
    return torch.log(x / (1 - x))


class GaussianAvatar(nn.Module):
    def __init__(self, n=40):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self._xyz = nn.Parameter(torch.rand(n, 3, generator=g) * 2 - 1)
        self._features_dc = nn.Parameter(torch.rand(n, 3, generator=g))
        self._scaling = nn.Parameter(torch.full((n, 1), -2.0))
        self._opacity = nn.Parameter(inverse_sigmoid(torch.full((n, 1), 0.1)))

    @property
    def opacity(self):
        return torch.sigmoid(self._opacity)

    def render(self, rotation, image_size=12):
        cam = self._xyz @ rotation.t()
        uv = cam[:, :2] / (3.0 + cam[:, 2:3])
        lin = torch.linspace(-1, 1, image_size)
        pix = torch.stack(torch.meshgrid(lin, lin, indexing="ij"), -1).view(-1, 2)
        d2 = ((pix[:, None] - uv[None]) ** 2).sum(-1)
        alpha = self.opacity.t() * torch.exp(-d2 / (2 * torch.exp(self._scaling.t()) ** 2))
        return ((alpha @ self._features_dc) / (alpha.sum(-1, keepdim=True) + 1e-2)).view(image_size, image_size, 3)


class AvatarTrainer:
    def __init__(self, avatar, args):
        self.avatar = avatar
        self.args = args
        self.training_setup()

    def training_setup(self):
        a, args = self.avatar, self.args
        groups = [
            {"params": [a._xyz], "lr": args["position_lr"], "name": "xyz"},
            {"params": [a._features_dc], "lr": args["feature_lr"], "name": "f_dc"},
            {"params": [a._scaling], "lr": args["scaling_lr"], "name": "scaling"},
        ]
        self.optimizer = torch.optim.Adam(groups, lr=0.0, eps=1e-15)

    def train_step(self, rotation, target):
        image = self.avatar.render(rotation)
        loss = 0.8 * F.l1_loss(image, target) + 0.2 * F.mse_loss(image, target)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


def frames(n=8, image_size=12):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        a = float(torch.rand(1, generator=g)) * 6.28
        c, s = torch.cos(torch.tensor(a)), torch.sin(torch.tensor(a))
        rot = torch.stack([torch.stack([c, torch.tensor(0.0), s]), torch.tensor([0.0, 1.0, 0.0]),
                           torch.stack([-s, torch.tensor(0.0), c])])
        out.append((rot, torch.rand(image_size, image_size, 3, generator=g)))
    return out


def main():
    torch.manual_seed(0)
    avatar = GaussianAvatar()
    args = {"position_lr": 1e-3, "feature_lr": 2.5e-2, "scaling_lr": 5e-3, "opacity_lr": 5e-2}
    trainer = AvatarTrainer(avatar, args)
    opa0, col0 = avatar._opacity.detach().clone(), avatar._features_dc.detach().clone()
    for rot, target in frames():
        trainer.train_step(rot, target)
    rot, target = frames(1)[0]
    F.l1_loss(avatar.render(rot), target).backward()
    return {"avatar": avatar}, {
        "opacity_changed": not torch.equal(opa0, avatar._opacity),
        "features_changed": not torch.equal(col0, avatar._features_dc),
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
