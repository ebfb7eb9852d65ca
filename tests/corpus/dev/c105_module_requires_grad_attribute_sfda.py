import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SegNet(nn.Module):
    def __init__(self, in_ch=3, feat=8, n_classes=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(in_ch, feat, 3, padding=1), nn.BatchNorm2d(feat), nn.ReLU(),
                                     nn.Conv2d(feat, feat, 3, padding=1), nn.ReLU())
        self.outc = nn.Conv2d(feat, n_classes, 1)

    def forward(self, x):
        return self.outc(self.encoder(x))


def entropy_loss(logits):
    p = logits.softmax(dim=1)
    return -(p * torch.log(p + 1e-6)).sum(dim=1).mean()


def prepare_for_adaptation(model):
    """Source-free adaptation: keep the source classifier fixed, adapt only the encoder."""
    model.outc.requires_grad = False
    return [p for p in model.parameters() if p.requires_grad]


def adapt(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for (images,) in loader:
            loss = entropy_loss(model(images))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = SegNet()
    params = prepare_for_adaptation(model)
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(torch.randn(12, 3, 8, 8)), batch_size=4, shuffle=True)
    head_before = model.outc.weight.detach().clone()
    adapt(model, loader, optimizer)
    facts = {
        "classifier_changed": not torch.equal(head_before, model.outc.weight.detach()),
        "params_in_optimizer": sum(len(g["params"]) for g in optimizer.param_groups),
    }
    return {"model": model}, facts

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
