import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CurveEstimator(nn.Module):
    """Zero-DCE style enhancer: predicts per-pixel curve parameters and applies them iteratively."""

    def __init__(self, ch=16, n_iter=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv3 = nn.Conv2d(2 * ch, 3 * n_iter, 3, padding=1)
        self.n_iter = n_iter

    def forward(self, x):
        h1 = F.relu(self.conv1(x))
        h2 = F.relu(self.conv2(h1))
        alphas = torch.tanh(self.conv3(torch.cat([h1, h2], dim=1))).chunk(self.n_iter, dim=1)
        out = x
        for a in alphas:
            out = out + a * (out.pow(2) - out)
        return out.clamp(0, 1)


def color_histogram(img, bins=32):
    hists = [torch.histc(img[:, c], bins=bins, min=0.0, max=1.0) for c in range(img.shape[1])]
    hist = torch.stack(hists)
    return hist / hist.sum(dim=1, keepdim=True)


class EnhancementLoss(nn.Module):
    def __init__(self, w_hist=0.5):
        super().__init__()
        self.w_hist = w_hist

    def forward(self, pred, target):
        pixel = F.l1_loss(pred, target)
        hist = (color_histogram(pred) - color_histogram(target)).abs().sum(dim=1).mean()
        self.last_terms = {"pixel": pixel.detach(), "hist": hist}
        return pixel + self.w_hist * hist


def train(model, loader, optimizer, criterion, epochs=1):
    model.train()
    for _ in range(epochs):
        for low, normal in loader:
            loss = criterion(model(low), normal)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    normal = torch.rand(16, 3, 16, 16)
    low = normal * 0.3
    loader = DataLoader(TensorDataset(low, normal), batch_size=4, shuffle=True)
    model = CurveEstimator()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = EnhancementLoss()
    train(model, loader, optimizer, criterion)
    facts = {"hist_term_requires_grad": criterion.last_terms["hist"].requires_grad}
    return {"model": model}, facts

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
