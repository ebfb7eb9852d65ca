import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvNet(nn.Module):
    def __init__(self, channels=3, width=16, num_classes=4):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                                      nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2))
        self.classifier = nn.Linear(width * 4 * 4, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def init_synthetic(num_classes, ipc, shape=(3, 16, 16)):
    """A few learnable images per class (dataset condensation)."""
    images = torch.randn(num_classes * ipc, *shape, requires_grad=True) * 0.01
    labels = torch.arange(num_classes).repeat_interleave(ipc)
    return images, labels


def match_gradients(net, real_x, real_y, syn_x, syn_y):
    params = [p for p in net.parameters()]
    g_real = torch.autograd.grad(F.cross_entropy(net(real_x), real_y), params)
    g_real = [g.detach() for g in g_real]
    g_syn = torch.autograd.grad(F.cross_entropy(net(syn_x), syn_y), params, create_graph=True)
    return sum(1 - F.cosine_similarity(a.flatten(), b.flatten(), dim=0) for a, b in zip(g_real, g_syn))


def distill(real_x, real_y, num_classes=4, ipc=2, iterations=3):
    image_syn, label_syn = init_synthetic(num_classes, ipc)
    optimizer_img = torch.optim.SGD([image_syn], lr=0.1, momentum=0.5)
    for _ in range(iterations):
        net = ConvNet(num_classes=num_classes)
        loss = match_gradients(net, real_x, real_y, image_syn, label_syn)
        optimizer_img.zero_grad()
        loss.backward()
        optimizer_img.step()
    return image_syn


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    real_y = torch.randint(0, 4, (32,), generator=g)
    real_x = torch.randn(32, 3, 16, 16, generator=g) + real_y.view(-1, 1, 1, 1) * 0.5
    image_syn = distill(real_x, real_y)
    return {"image_syn": image_syn}

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
