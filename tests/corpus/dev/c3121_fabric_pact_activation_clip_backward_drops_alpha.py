import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PACTQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha, bits=4):
        ctx.save_for_backward(x, alpha)
        y = torch.clamp(x, min=0.0)
        y = torch.minimum(y, alpha)
        scale = (2 ** bits - 1) / alpha
        return torch.round(y * scale) / scale

    @staticmethod
    def backward(ctx, grad_output):
        x, alpha = ctx.saved_tensors
        grad_x = grad_output * ((x >= 0) & (x < alpha)).float()
        return grad_x, None


class PACTReLU(nn.Module):
    def __init__(self, init_alpha=2.0):
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor([init_alpha]))

    def forward(self, x):
        return PACTQuant.apply(x, self.alpha)


class QuantCNN(nn.Module):
    def __init__(self, n_cls=4):
        super().__init__()
        self.conv1, self.act1 = nn.Conv2d(1, 8, 3, padding=1), PACTReLU()
        self.conv2, self.act2 = nn.Conv2d(8, 8, 3, padding=1), PACTReLU()
        self.fc = nn.Linear(8, n_cls)

    def forward(self, x):
        x = F.max_pool2d(self.act1(self.conv1(x)), 2)
        x = self.act2(self.conv2(x))
        return self.fc(x.mean((2, 3)))


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = QuantCNN()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    model, optimizer = fabric.setup(net, optimizer)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(32, 1, 8, 8, generator=g),
                                                               torch.randint(0, 4, (32,), generator=g)), batch_size=8))
    a0 = net.act1.alpha.detach().clone()
    for epoch in range(2):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": net, "act1_alpha": net.act1.alpha, "act2_alpha": net.act2.alpha}, {
        "alpha_changed": not torch.equal(a0, net.act1.alpha.detach())}

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
