import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TokenSelector(nn.Module):
    """Scores patch tokens; the classifier only looks at the k sampled ones."""

    def __init__(self, dim=12):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, 1))

    def forward(self, tokens, k):
        probs = F.softmax(self.score(tokens).squeeze(-1), dim=-1)
        idx = torch.multinomial(probs, k, replacement=False)
        return idx, probs


class PrunedViT(nn.Module):
    def __init__(self, dim=12, n_classes=3, keep=4):
        super().__init__()
        self.patch = nn.Linear(8, dim)
        self.selector = TokenSelector(dim)
        self.mixer = nn.TransformerEncoderLayer(dim, 2, 24, batch_first=True, dropout=0.0)
        self.head = nn.Linear(dim, n_classes)
        self.keep = keep

    def forward(self, patches):
        tokens = self.patch(patches)
        idx, probs = self.selector(tokens, self.keep)
        kept = torch.gather(tokens, 1, idx.unsqueeze(-1).expand(-1, -1, tokens.size(-1)))
        return self.head(self.mixer(kept).mean(1)), probs


def main():
    set_seed(0)
    accelerator = Accelerator()
    patches = torch.randn(32, 9, 8)
    labels = (patches[:, :, 0].sum(1) > 0).long() + (patches[:, :, 1].sum(1) > 2).long()
    model = PrunedViT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(patches, labels), batch_size=8, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for x, y in loader:
        logits, probs = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
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
