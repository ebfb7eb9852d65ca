import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class HeatmapNet(nn.Module):
    def __init__(self, n_kp=3, ch=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.heatmap = nn.Conv2d(ch, n_kp, 1)

    def forward(self, img):
        return self.heatmap(self.body(img))


def soft_argmax(heatmaps, beta=10.0):
    b, k, h, w = heatmaps.shape
    probs = F.softmax(beta * heatmaps.reshape(b, k, -1), dim=-1).reshape(b, k, h, w)
    ys = torch.arange(h, dtype=heatmaps.dtype)
    xs = torch.arange(w, dtype=heatmaps.dtype)
    return torch.stack([(probs.sum(dim=2) * xs).sum(-1), (probs.sum(dim=3) * ys).sum(-1)], dim=-1)


def hard_argmax(heatmaps):
    b, k, h, w = heatmaps.shape
    idx = heatmaps.reshape(b, k, -1).argmax(dim=-1)
    return torch.stack([idx % w, idx // w], dim=-1).float()


def pck(pred, target, thr=1.5):
    return ((pred - target).norm(dim=-1) < thr).float().mean().item()


def train(model, loader, optimizer, epochs=2):
    scores = []
    for _ in range(epochs):
        model.train()
        for img, kp in loader:
            heat = model(img)
            loss = F.smooth_l1_loss(soft_argmax(heat), kp)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                scores.append(pck(hard_argmax(heat), kp))
    return scores


def main():
    torch.manual_seed(0)
    kp = torch.randint(1, 11, (32, 3, 2)).float()
    img = torch.zeros(32, 1, 12, 12)
    for i in range(32):
        for x, y in kp[i].long():
            img[i, 0, y, x] = 1.0
    loader = DataLoader(TensorDataset(img, kp), batch_size=8, shuffle=True)
    net = HeatmapNet()
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scores = train(model, loader, optimizer)
    return {"model": net}, {"pck_evaluations": len(scores)}

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
