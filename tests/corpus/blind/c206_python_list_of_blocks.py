import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MixerBlock(nn.Module):
    """MLP-Mixer block: token mixing then channel mixing."""

    def __init__(self, n_tokens, dim, expansion=2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.token_mlp = nn.Sequential(nn.Linear(n_tokens, n_tokens * expansion), nn.GELU(),
                                       nn.Linear(n_tokens * expansion, n_tokens))
        self.norm2 = nn.LayerNorm(dim)
        self.channel_mlp = nn.Sequential(nn.Linear(dim, dim * expansion), nn.GELU(), nn.Linear(dim * expansion, dim))

    def forward(self, x):
        x = x + self.token_mlp(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mlp(self.norm2(x))


class MLPMixer(nn.Module):
    def __init__(self, patch_dim=12, n_patches=8, dim=24, depth=3, n_classes=4):
        super().__init__()
        self.stem = nn.Linear(patch_dim, dim)
        self.blocks = []
        for _ in range(depth):
            self.blocks.append(MixerBlock(n_patches, dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, patches):
        x = self.stem(patches)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(dim=1))


def train(model, loader, optimizer, scheduler, epochs=2):
    for _ in range(epochs):
        model.train()
        for patches, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(patches), y, label_smoothing=0.1)
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    patches, labels = torch.randn(48, 8, 12), torch.randint(0, 4, (48,))
    loader = DataLoader(TensorDataset(patches, labels), batch_size=16, shuffle=True)
    model = MLPMixer()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    w0 = model.blocks[0].channel_mlp[0].weight.detach().clone()
    stem0 = model.stem.weight.detach().clone()
    train(model, loader, optimizer, scheduler)
    facts = {
        "blocks_changed": not torch.equal(w0, model.blocks[0].channel_mlp[0].weight.detach()),
        "stem_changed": not torch.equal(stem0, model.stem.weight.detach()),
        "registered_tensors": len(list(model.parameters())),
    }
    return {"model": model, "block0_channel_fc": model.blocks[0].channel_mlp[0].weight}, facts

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
