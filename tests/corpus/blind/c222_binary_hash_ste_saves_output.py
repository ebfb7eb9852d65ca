import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SignSTE(torch.autograd.Function):
    """sign() forward, hard-tanh straight-through estimator backward (pass the gradient where |x| <= 1)."""

    @staticmethod
    def forward(ctx, x):
        codes = torch.sign(x)
        ctx.save_for_backward(codes)
        return codes

    @staticmethod
    def backward(ctx, grad_output):
        saved, = ctx.saved_tensors
        return grad_output * (saved.abs() < 1).to(grad_output.dtype)


class DeepHashNet(nn.Module):
    """Learns n_bits binary codes for retrieval."""

    def __init__(self, in_dim=32, n_bits=12, n_classes=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, n_bits))
        self.classifier = nn.Linear(n_bits, n_classes)

    def hash(self, x):
        return SignSTE.apply(torch.tanh(self.encoder(x)))

    def forward(self, x):
        codes = self.hash(x)
        return codes, self.classifier(codes)


def pairwise_similarity_loss(codes, labels):
    sim = (labels[:, None] == labels[None, :]).float() * 2 - 1
    inner = codes @ codes.t() / codes.size(1)
    return F.mse_loss(inner, sim)


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for x, y in loader:
            codes, logits = model(x)
            loss = pairwise_similarity_loss(codes, y) + F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, 32), torch.randint(0, 4, (48,))), batch_size=16, shuffle=True)
    model = DeepHashNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
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
