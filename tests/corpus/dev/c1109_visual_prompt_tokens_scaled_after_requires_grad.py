import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchEncoder(nn.Module):
    """Stand-in for a pretrained ViT trunk: patch embedding + two transformer layers."""

    def __init__(self, patch_dim=12, dim=16):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        layer = nn.TransformerEncoderLayer(dim, nhead=2, dim_feedforward=32, batch_first=True, dropout=0.0)
        self.blocks = nn.TransformerEncoder(layer, num_layers=2)

    def forward(self, tokens):
        return self.blocks(tokens)


class PromptedClassifier(nn.Module):
    def __init__(self, n_prompts=4, dim=16, n_classes=3):
        super().__init__()
        self.encoder = PatchEncoder(dim=dim)
        self.prompt = torch.randn(1, n_prompts, dim, requires_grad=True) * 0.02
        self.head = nn.Linear(dim, n_classes)

    def forward(self, patches):
        x = self.encoder.patch_embed(patches)
        prompts = self.prompt.expand(x.size(0), -1, -1)
        h = self.encoder(torch.cat([prompts, x], dim=1))
        return self.head(h[:, : self.prompt.size(1)].mean(dim=1))


def build_optimizer(model, lr=1e-2):
    model.encoder.requires_grad_(False)
    return torch.optim.AdamW([model.prompt] + list(model.head.parameters()), lr=lr)


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for patches, label in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(patches), label).backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    patches = torch.randn(32, 9, 12)
    label = torch.randint(0, 3, (32,))
    loader = DataLoader(TensorDataset(patches, label), batch_size=8, shuffle=True)
    model = PromptedClassifier()
    optimizer = build_optimizer(model)
    train(model, loader, optimizer)
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
