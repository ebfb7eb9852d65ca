import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchEmbedBackbone(nn.Module):
    def __init__(self, dim=16, patch=4):
        super().__init__()
        self.embed = nn.Conv2d(3, dim, patch, patch)
        layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)

    def forward(self, x):
        tokens = self.embed(x).flatten(2).transpose(1, 2)
        return self.encoder(tokens).mean(1)


class PadPrompter:
    def __init__(self, size=16, init_scale=0.01):
        self.prompt = torch.randn(1, 3, size, size, requires_grad=True) * init_scale

    def __call__(self, images):
        return images + self.prompt

    def parameters(self):
        return [self.prompt]


def build_optimizer(prompter, head, lr=0.1):
    groups = [{"params": prompter.parameters(), "lr": lr}, {"params": head.parameters(), "lr": lr * 0.1}]
    return torch.optim.SGD(groups, momentum=0.9)


def train(backbone, prompter, head, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for img, y in loader:
            feats = backbone(prompter(img))
            loss = F.cross_entropy(head(feats), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def evaluate(backbone, prompter, head, loader):
    correct = total = 0
    with torch.no_grad():
        for img, y in loader:
            correct += (head(backbone(prompter(img))).argmax(-1) == y).sum().item()
            total += y.numel()
    return correct / max(total, 1)


def main():
    torch.manual_seed(0)
    backbone = PatchEmbedBackbone()
    backbone.requires_grad_(False)
    backbone.eval()
    backbone = nn.DataParallel(backbone)
    head = nn.Linear(16, 3)
    prompter = PadPrompter()
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 3, 16, 16, generator=g), torch.randint(0, 3, (24,), generator=g)),
                        batch_size=8, shuffle=True, generator=g)
    optimizer = build_optimizer(prompter, head)
    train(backbone, prompter, head, loader, optimizer)
    return {"head": head}

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
