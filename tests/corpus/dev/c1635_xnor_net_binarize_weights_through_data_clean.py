import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class XNORNet(nn.Module):
    def __init__(self, width=8, n_classes=4):
        super().__init__()
        self.conv_in = nn.Conv2d(1, width, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv_bin1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv_bin2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.fc = nn.Linear(width, n_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv_in(x)))
        x = F.hardtanh(self.bn2(self.conv_bin1(x)))
        x = F.relu(self.conv_bin2(x))
        return self.fc(x.mean(dim=(2, 3)))


class BinOp:
    """Binarizes the inner conv weights for the forward pass and keeps full-precision copies for the update."""

    def __init__(self, model):
        self.targets = [model.conv_bin1.weight, model.conv_bin2.weight]
        self.saved = [w.data.clone() for w in self.targets]

    @staticmethod
    def _alpha(w):
        n = w[0].nelement()
        return w.norm(1, 3, keepdim=True).sum(2, keepdim=True).sum(1, keepdim=True).div(n)

    def binarization(self):
        for i, w in enumerate(self.targets):
            w.data.clamp_(-1.0, 1.0)
            self.saved[i].copy_(w.data)
            w.data.copy_(w.data.sign() * self._alpha(w.data))

    def restore(self):
        for w, saved in zip(self.targets, self.saved):
            w.data.copy_(saved)

    def update_binary_grad_weight(self):
        for w in self.targets:
            m = self._alpha(w.data).expand_as(w).clone()
            m[w.data.abs() > 1.0] = 0
            w.grad.data = w.grad.data * (m + 1.0 / w[0].nelement())


def train(model, bin_op, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            bin_op.binarization()
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            bin_op.restore()
            bin_op.update_binary_grad_weight()
            optimizer.step()


def make_loader(n=64):
    g = torch.Generator().manual_seed(19)
    y = torch.randint(0, 4, (n,), generator=g)
    x = torch.randn(n, 1, 8, 8, generator=g) * 0.5
    for k in range(4):
        x[y == k, :, 2 * k:2 * k + 2, :] += 1.5
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = XNORNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, weight_decay=1e-5)
    bin_op = BinOp(model)
    w0 = model.conv_bin1.weight.detach().clone()
    train(model, bin_op, make_loader(), optimizer)
    return {"model": model}, {"binary_conv_changed": not torch.equal(w0, model.conv_bin1.weight)}

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
