import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class CurveEstimator(nn.Module):
    """Zero-DCE style: predicts per-pixel curve parameters and applies them iteratively."""

    def __init__(self, ch=8, n_iter=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.out = nn.Conv2d(ch, 3 * n_iter, 3, padding=1)
        self.n_iter = n_iter

    def forward(self, img):
        a = torch.tanh(self.out(F.relu(self.conv2(F.relu(self.conv1(img))))))
        x = img
        for alpha in a.chunk(self.n_iter, dim=1):
            x = x + alpha * (x * x - x)
        return x.clamp(0, 1)


def histogram_loss(pred, target, bins=16):
    loss = 0.0
    for c in range(pred.size(1)):
        hp = torch.histc(pred[:, c], bins=bins, min=0.0, max=1.0)
        ht = torch.histc(target[:, c], bins=bins, min=0.0, max=1.0)
        loss = loss + F.l1_loss(hp / hp.sum(), ht / ht.sum())
    return loss


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    dark = torch.rand(16, 3, 16, 16) * 0.3  # unpaired: low-light inputs and unrelated well-exposed references
    reference = torch.rand(16, 3, 16, 16)
    loader = DataLoader(TensorDataset(dark, reference), batch_size=4, shuffle=True)
    model = CurveEstimator()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for low, ref in loader:
        with accelerator.accumulate(model):
            enhanced = model(low)
            loss = histogram_loss(enhanced, ref)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    return {"model": model}

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
