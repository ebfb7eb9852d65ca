import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class KeypointRegressor(nn.Module):
    def __init__(self, n_kpts=4):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.head = nn.Linear(64, 2 * n_kpts)

    def forward(self, x):
        return self.head(self.features(x))


def main():
    torch.manual_seed(0)
    images = torch.randn(40, 1, 16, 16)
    kpts = torch.rand(40, 8)
    loader = DataLoader(TensorDataset(images, kpts), batch_size=4, shuffle=True)  # 10 batches per epoch
    model = KeypointRegressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    accumulate = 4
    steps, last_opt_step = 0, -1
    grads_clean_at_window_start = True
    w0 = model.head.weight.detach().clone()
    optimizer.zero_grad()
    for epoch in range(2):
        for i, (x, y) in enumerate(loader):
            if steps - last_opt_step == 1:
                grads_clean_at_window_start &= all(p.grad is None for p in model.parameters())
            loss = F.smooth_l1_loss(model(x), y) / accumulate
            loss.backward()
            steps += 1
            if steps - last_opt_step >= accumulate or i == len(loader) - 1:
                nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                optimizer.step()
                optimizer.zero_grad()
                last_opt_step = steps - 1
    model(images[:4]).pow(2).mean().backward()
    return ({"model": model},
            {"grads_clean_at_window_start": grads_clean_at_window_start,
             "head_changed": not torch.equal(w0, model.head.weight)})

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
