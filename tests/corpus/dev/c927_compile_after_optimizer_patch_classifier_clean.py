import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchMixerClassifier(nn.Module):
    def __init__(self, patch=4, d=32, n_patches=16, n_classes=5):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, d, patch, stride=patch)
        self.pos = nn.Parameter(torch.zeros(1, n_patches, d))
        self.mixer = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.head = nn.Linear(d, n_classes)

    def forward(self, img):
        tokens = self.patch_embed(img).flatten(2).transpose(1, 2) + self.pos
        tokens = tokens + self.mixer(tokens)
        return self.head(tokens.mean(1))


def make_loader(n=64, size=16, n_classes=5):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, n_classes, (n,), generator=g)
    img = torch.randn(n, 3, size, size, generator=g) + y.view(-1, 1, 1, 1) * 0.3
    return DataLoader(TensorDataset(img, y), batch_size=16, shuffle=True, generator=g)


def train_epoch(model, loader, optimizer):
    model.train()
    running = 0.0
    for img, y in loader:
        loss = F.cross_entropy(model(img), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item() * len(y)
    return running / len(loader.dataset)


def main():
    torch.manual_seed(0)
    net = PatchMixerClassifier()
    optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3)
    model = torch.compile(net, backend="eager")
    loader = make_loader()
    before = net.patch_embed.weight.detach().clone()
    history = [train_epoch(model, loader, optimizer) for _ in range(2)]
    facts = {
        "shares_parameters": model._orig_mod.patch_embed.weight is net.patch_embed.weight,
        "patch_embed_changed": not torch.equal(before, net.patch_embed.weight),
        "loss_decreased": history[-1] < history[0],
    }
    return {"net": net}, facts

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
