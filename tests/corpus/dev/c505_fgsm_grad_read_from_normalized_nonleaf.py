import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CIFAR_MEAN = torch.tensor([0.49, 0.48, 0.45]).view(1, 3, 1, 1)
CIFAR_STD = torch.tensor([0.25, 0.24, 0.26]).view(1, 3, 1, 1)


def normalize(images):
    return (images - CIFAR_MEAN) / CIFAR_STD


class SmallResNet(nn.Module):
    def __init__(self, n_classes=10, ch=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU(),
                                   nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))
        self.fc = nn.Linear(ch, n_classes)

    def forward(self, x):
        h = self.stem(x)
        h = F.relu(h + self.block(h))
        return self.fc(h.mean(dim=(2, 3)))


def fgsm_examples(model, images, labels, eps=8 / 255):
    """Craft FGSM adversarial images in pixel space ([0, 1])."""
    was_training = model.training
    model.eval()
    x = images.clone().requires_grad_(True)
    x = normalize(x)
    loss = F.cross_entropy(model(x), labels)
    model.zero_grad()
    loss.backward()
    adv = (images + eps * x.grad.sign()).clamp(0, 1)
    model.train(was_training)
    return adv.detach()


def adversarial_train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for images, labels in loader:
            adv = fgsm_examples(model, images, labels)
            optimizer.zero_grad()
            logits = model(normalize(torch.cat([images, adv])))
            loss = F.cross_entropy(logits, torch.cat([labels, labels]))
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(32, 3, 16, 16, generator=g)
    labels = torch.randint(0, 10, (32,), generator=g)
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True, generator=g)
    model = SmallResNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    adversarial_train(model, loader, optimizer)
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
