import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvBNAct(nn.Sequential):
    def __init__(self, cin, cout, stride=1):
        super().__init__(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class SegNet(nn.Module):
    def __init__(self, n_cls=3):
        super().__init__()
        self.encoder = nn.Sequential(ConvBNAct(3, 8), ConvBNAct(8, 16, 2), ConvBNAct(16, 16))
        self.decoder = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(8, n_cls, 1))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def freeze_bn(model):
    """Small batches: keep the pretrained BatchNorm statistics and affine parameters fixed."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) or nn.Conv2d:
            m.eval()
            for p in m.parameters():
                p.requires_grad = False


def train_epoch(model, loader, optimizer):
    model.train()
    freeze_bn(model)
    for images, masks in loader:
        loss = F.cross_entropy(model(images), masks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    images, masks = torch.randn(8, 3, 16, 16), torch.randint(0, 3, (8, 16, 16))
    net = SegNet()
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD([p for p in model.parameters()], lr=0.01, momentum=0.9)
    enc0 = net.encoder[1][0].weight.detach().clone()
    train_epoch(model, DataLoader(TensorDataset(images, masks), batch_size=4), optimizer)
    return ({"model": net},
            {"encoder_conv_changed": not torch.equal(enc0, net.encoder[1][0].weight),
             "trainable_tensors": sum(p.requires_grad for p in net.parameters())})

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
