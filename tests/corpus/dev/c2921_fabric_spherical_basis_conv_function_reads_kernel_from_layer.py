import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class BasisConvFunction(torch.autograd.Function):
    """y[b, o, q] = sum_{i, k} W[o, i, k] * (x[b, i, :] @ basis[k, :, q]), without storing the expansion."""

    @staticmethod
    def forward(ctx, x, basis, layer):
        kernel = layer.kernel
        ctx.save_for_backward(x, basis, kernel)
        expanded = torch.einsum("bip,kpq->bikq", x, basis)
        return torch.einsum("oik,bikq->boq", kernel, expanded)

    @staticmethod
    def backward(ctx, grad_out):
        x, basis, kernel = ctx.saved_tensors
        g = torch.einsum("oik,boq->bikq", kernel, grad_out)
        grad_x = torch.einsum("bikq,kpq->bip", g, basis)
        return grad_x, None, None


class SphericalBasisConv(nn.Module):
    def __init__(self, c_in, c_out, basis):
        super().__init__()
        self.register_buffer("basis", basis)
        self.kernel = nn.Parameter(torch.randn(c_out, c_in, basis.shape[0]) / (c_in * basis.shape[0]) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(c_out, 1))

    def forward(self, x):
        return BasisConvFunction.apply(x, self.basis, self) + self.bias


def make_basis(n_points=12, n_basis=3, seed=0):
    """Smooth rotation-like bases on a fixed grid of sphere points (row-normalised Gaussian kernels)."""
    g = torch.Generator().manual_seed(seed)
    pts = F.normalize(torch.randn(n_points, 3, generator=g), dim=-1)
    cos = pts @ pts.T
    return torch.stack([torch.softmax(cos * s, dim=-1) for s in (1.0, 4.0, 16.0)[:n_basis]])


class SphericalCNN(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        basis = make_basis()
        self.conv1 = SphericalBasisConv(2, 8, basis)
        self.conv2 = SphericalBasisConv(8, 8, basis)
        self.classifier = nn.Linear(8, n_classes)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))
        return self.classifier(h.mean(-1))


def make_loader(n=32, n_points=12):
    g = torch.Generator().manual_seed(1)
    signals = torch.randn(n, 2, n_points, generator=g)
    labels = (signals[:, 0, :4].sum(-1) > 0).long() + (signals[:, 1].mean(-1) > 0.2).long()
    return DataLoader(TensorDataset(signals, labels), batch_size=8, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = SphericalCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    kernel_before = model.conv1.kernel.detach().clone()
    for epoch in range(2):
        for signals, labels in loader:
            loss = F.cross_entropy(model(signals), labels)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    facts = {"conv1_kernel_changed": not torch.equal(kernel_before, model.conv1.kernel)}
    return {"model": model.module}, facts

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
