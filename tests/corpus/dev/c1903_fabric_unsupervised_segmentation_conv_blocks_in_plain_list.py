import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class UnsupervisedSegNet(nn.Module):
    """Differentiable feature clustering: conv features -> 1x1 response -> argmax pseudo-labels."""

    def __init__(self, in_ch=3, width=16, n_blocks=3, n_clusters=8):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, width, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.blocks = []
        for _ in range(n_blocks - 1):
            self.blocks.append(nn.Sequential(
                nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()))
        self.response = nn.Conv2d(width, n_clusters, 1)
        self.bn_out = nn.BatchNorm2d(n_clusters)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for block in self.blocks:
            x = block(x)
        return self.bn_out(self.response(x))


def continuity_loss(resp):
    dy = resp[:, :, 1:, :] - resp[:, :, :-1, :]
    dx = resp[:, :, :, 1:] - resp[:, :, :, :-1]
    return dy.abs().mean() + dx.abs().mean()


def clustering_loss(resp, mu=1.0):
    target = resp.argmax(dim=1)  # pseudo-labels from the current response map
    return F.cross_entropy(resp, target) + mu * continuity_loss(resp)


def train(fabric, model, optimizer, loader, epochs=2):
    model.train()
    for _ in range(epochs):
        for (images,) in loader:
            optimizer.zero_grad()
            loss = clustering_loss(model(images))
            fabric.backward(loss)
            optimizer.step()
    return loss.item()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 12, 12, generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(images), batch_size=4, shuffle=True, generator=g))
    net = UnsupervisedSegNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    model, optimizer = fabric.setup(net, optimizer)
    w0 = net.blocks[0][0].weight.detach().clone()
    train(fabric, model, optimizer, loader)
    optimizer.zero_grad()
    fabric.backward(clustering_loss(model(images[:4])))
    return ({"model": net, "block0_conv": net.blocks[0][0].weight},
            {"block_changed": not torch.equal(w0, net.blocks[0][0].weight)})

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
