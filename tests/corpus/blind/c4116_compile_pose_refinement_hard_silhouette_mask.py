import torch
import torch.nn as nn
import torch.nn.functional as F


def axis_angle_to_matrix(rotvec):
    theta = rotvec.norm() + 1e-8
    k = rotvec / theta
    kx = torch.stack([torch.zeros(()), -k[2], k[1], k[2], torch.zeros(()), -k[0], -k[1], k[0], torch.zeros(())]).view(3, 3)
    return torch.eye(3) + torch.sin(theta) * kx + (1 - torch.cos(theta)) * (kx @ kx)


class ObjectPoseRefiner(nn.Module):
    """Refines a 6-DoF object pose against a segmentation mask and an RGB crop (DOPE-style refinement)."""

    def __init__(self, model_points, image_size=16, sharpness=60.0):
        super().__init__()
        self.register_buffer("points", model_points)
        self.rotvec = nn.Parameter(torch.tensor([0.05, -0.02, 0.03]))
        self.translation = nn.Parameter(torch.tensor([0.0, 0.0, 3.0]))
        self.albedo = nn.Parameter(torch.full((model_points.size(0), 3), 0.5))
        lin = torch.linspace(-0.5, 0.5, image_size)
        self.register_buffer("pixels", torch.stack(torch.meshgrid(lin, lin, indexing="ij"), -1).view(-1, 2))
        self.sharpness = sharpness
        self.image_size = image_size

    def forward(self):
        cam = self.points @ axis_angle_to_matrix(self.rotvec).t() + self.translation
        uv = cam[:, :2] / cam[:, 2:3]
        d2 = ((self.pixels[:, None] - uv[None]) ** 2).sum(-1)
        density = torch.exp(-self.sharpness * d2).sum(-1)
        mask = (density > 0.5).float()
        nearest = d2.argmin(-1)
        rgb = mask[:, None] * self.albedo[nearest]
        s = self.image_size
        return rgb.view(s, s, 3), mask.view(s, s)


def refine(model, compiled, target_rgb, target_mask, cfg):
    optimizer = torch.optim.Adam([
        {"params": [model.rotvec, model.translation], "lr": cfg["lr_pose"]},
        {"params": [model.albedo], "lr": cfg["lr_albedo"]},
    ])
    for _ in range(cfg["iters"]):
        rgb, mask = compiled()
        loss = F.mse_loss(mask, target_mask) + cfg["rgb_weight"] * F.mse_loss(rgb, target_rgb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def make_target(points, image_size=16):
    with torch.no_grad():
        gt = ObjectPoseRefiner(points, image_size)
        gt.rotvec.copy_(torch.tensor([0.2, 0.1, -0.1]))
        gt.translation.copy_(torch.tensor([0.05, -0.03, 2.8]))
        gt.albedo.copy_(torch.rand(points.size(0), 3, generator=torch.Generator().manual_seed(2)))
        return gt()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    points = torch.rand(40, 3, generator=g) * 0.6 - 0.3
    target_rgb, target_mask = make_target(points)
    model = ObjectPoseRefiner(points)
    compiled = torch.compile(model, backend="eager")
    t0 = model.translation.detach().clone()
    refine(model, compiled, target_rgb, target_mask, {"lr_pose": 1e-2, "lr_albedo": 5e-2, "rgb_weight": 1.0, "iters": 6})
    return {"model": model}, {"pose_changed": not torch.equal(t0, model.translation)}

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
