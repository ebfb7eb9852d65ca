import torch
import torch.nn as nn
import torch.nn.functional as F

SIZE = 8


class HeatmapNet(nn.Module):
    def __init__(self, n_keypoints=3, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.heatmaps = nn.Conv2d(width, n_keypoints, 1)
        self.beta = nn.Parameter(torch.tensor(2.0))

    def forward(self, x):
        return self.heatmaps(self.features(x)) * self.beta


def soft_argmax(heatmaps):
    b, k, h, w = heatmaps.shape
    probs = heatmaps.flatten(2).softmax(dim=-1).view(b, k, h, w)
    xs = (probs.sum(dim=2) * torch.arange(w, dtype=probs.dtype)).sum(dim=-1)
    ys = (probs.sum(dim=3) * torch.arange(h, dtype=probs.dtype)).sum(dim=-1)
    return torch.stack([xs, ys], dim=-1)


@torch.no_grad()
def hard_argmax(heatmaps):
    b, k, h, w = heatmaps.shape
    idx = heatmaps.flatten(2).argmax(dim=-1)
    return torch.stack([idx % w, idx // w], dim=-1).float()


def keypoint_loss(pred, target, visible):
    per_kp = F.smooth_l1_loss(pred, target, reduction="none").sum(dim=-1)
    per_kp = torch.where(visible > 0, per_kp, torch.zeros_like(per_kp))
    return per_kp.sum() / visible.sum().clamp(min=1)


def make_batch(n=8, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    coords = torch.rand(n, k, 2, generator=g) * (SIZE - 2) + 1
    visible = (torch.rand(n, k, generator=g) > 0.15).float()
    yy, xx = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    blobs = torch.exp(-((xx - coords[..., 0, None, None]) ** 2 + (yy - coords[..., 1, None, None]) ** 2) / 1.5)
    return (blobs * visible[..., None, None]).sum(dim=1, keepdim=True), coords, visible


def pck(pred, target, visible, thr=1.0):
    hit = ((pred - target).norm(dim=-1) < thr).float() * visible
    return float(hit.sum() / visible.sum().clamp(min=1))


@torch.no_grad()
def evaluate(model, seeds=(100, 101)):
    model.eval()
    scores = []
    for seed in seeds:
        images, coords, visible = make_batch(seed=seed)
        scores.append(pck(soft_argmax(model(images)), coords, visible))
    model.train()
    return sum(scores) / len(scores)


def train(model, optimizer, steps=8):
    history = []
    for step in range(steps):
        images, coords, visible = make_batch(seed=step)
        heatmaps = model(images)
        loss = keypoint_loss(soft_argmax(heatmaps), coords, visible)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(pck(hard_argmax(heatmaps), coords, visible))
    return history


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(HeatmapNet())
    head_before = model.module.heatmaps.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = train(model, optimizer)
    print("held-out PCK", evaluate(model))
    facts = {"heatmap_head_changed": not torch.equal(head_before, model.module.heatmaps.weight),
             "pck_steps": len(history)}
    return {"net": model.module}, facts

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
