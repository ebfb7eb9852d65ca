import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SwiGLU(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1, self.w2, self.w3 = nn.Linear(dim, hidden), nn.Linear(hidden, dim), nn.Linear(dim, hidden)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TabularTransformer(nn.Module):
    def __init__(self, n_features=8, dim=16, n_classes=3):
        super().__init__()
        self.feature_embed = nn.Parameter(torch.randn(n_features, dim) * 0.1)
        self.value_proj = nn.Linear(1, dim)
        self.norm = nn.LayerNorm(dim)
        self.ffn = SwiGLU(dim, 2 * dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        tokens = self.value_proj(x.unsqueeze(-1)) + self.feature_embed
        tokens = tokens + self.ffn(self.norm(tokens))
        return self.head(tokens.mean(1))


def train(compiled_model, loader, optimizer, epochs=2):
    compiled_model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(compiled_model(x), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = TabularTransformer()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    compiled = torch.compile(model, backend="eager")
    loader = DataLoader(TensorDataset(torch.randn(32, 8), torch.randint(0, 3, (32,))), batch_size=16, drop_last=True)
    emb0 = model.feature_embed.detach().clone()
    train(compiled, loader, optimizer)
    facts = {"orig_mod_is_model": compiled._orig_mod is model,
             "feature_embed_changed": not torch.equal(emb0, model.feature_embed.detach()),
             "state_dict_prefixed": all(k.startswith("_orig_mod.") for k in compiled.state_dict())}
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
