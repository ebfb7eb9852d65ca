import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CoralLoss(torch.autograd.Function):
    """||C_s - C_t||_F^2 / (4 d^2), computed in NumPy, with an analytic backward."""

    @staticmethod
    def forward(ctx, source, target):
        xs_np, xt_np = source.detach().cpu().numpy(), target.detach().cpu().numpy()
        cs, ct = np.cov(xs_np, rowvar=False), np.cov(xt_np, rowvar=False)
        d = source.shape[1]
        loss = ((cs - ct) ** 2).sum() / (4 * d * d)
        ctx.save_for_backward(source, target, torch.from_numpy(cs - ct).to(source.dtype))
        return source.new_tensor(float(loss))

    @staticmethod
    def backward(ctx, grad_output):
        source, target, diff = ctx.saved_tensors
        d = source.shape[1]
        g = grad_output * diff / (2 * d * d)
        xs_c = source - source.mean(0, keepdim=True)
        xt_c = target - target.mean(0, keepdim=True)
        grad_s = 2.0 * xs_c @ g / (source.shape[0] - 1)
        grad_t = -2.0 * xt_c @ g / (target.shape[0] - 1)
        return grad_s, grad_t


class DeepCoral(nn.Module):
    def __init__(self, d_in=20, d_feat=16, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, d_feat), nn.ReLU())
        self.classifier = nn.Linear(d_feat, n_classes)

    def forward(self, x):
        f = self.features(x)
        return f, self.classifier(f)


def make_loaders(n=64, d_in=20, n_classes=4):
    g = torch.Generator().manual_seed(0)
    ys = torch.randint(0, n_classes, (n,), generator=g)
    xs = torch.randn(n, d_in, generator=g) + ys[:, None].float()
    xt = 1.5 * torch.randn(n, d_in, generator=g) + 0.5
    src = DataLoader(TensorDataset(xs, ys), batch_size=16, shuffle=True, generator=g)
    tgt = DataLoader(TensorDataset(xt), batch_size=16, shuffle=True, generator=g)
    return src, tgt


def train(model, source_loader, target_loader, optimizer, coral_weight=1.0, epochs=2):
    model.train()
    for _ in range(epochs):
        for (xs, ys), (xt,) in zip(source_loader, target_loader):
            fs, logits = model(xs)
            ft, _ = model(xt)
            loss = F.cross_entropy(logits, ys) + coral_weight * CoralLoss.apply(fs, ft)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = DeepCoral()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    src, tgt = make_loaders()
    train(model, src, tgt, optimizer)
    fs = torch.randn(16, 16, requires_grad=True)
    CoralLoss.apply(fs, torch.randn(16, 16) * 2).backward()
    return {"model": model}, {"coral_grad_nonzero": bool(fs.grad.abs().sum() > 0)}

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
