import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class HashTextEmbedder(nn.Module):
    """Encodes each row's text column through hashed n-gram bins (trainable)."""

    def __init__(self, bins=64, dim=8):
        super().__init__()
        self.embedding = nn.EmbeddingBag(bins, dim, mode="mean")

    def forward(self, token_bins):
        return self.embedding(token_bins)


class TabularModel(nn.Module):
    def __init__(self, num_dim=6, text_dim=8, n_cls=3):
        super().__init__()
        self.text = HashTextEmbedder(dim=text_dim)
        self.mlp = nn.Sequential(nn.Linear(num_dim + text_dim, 32), nn.ReLU(), nn.Linear(32, n_cls))
        self._text_cache = {}

    def encode_text(self, row_ids, token_bins):
        out = []
        for rid, bins in zip(row_ids.tolist(), token_bins):
            if rid not in self._text_cache:
                self._text_cache[rid] = self.text(bins[None])[0]
            out.append(self._text_cache[rid])
        return torch.stack(out)

    def forward(self, row_ids, numeric, token_bins):
        return self.mlp(torch.cat([numeric, self.encode_text(row_ids, token_bins)], dim=-1))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(30)
    n = 16
    data = TensorDataset(torch.arange(n), torch.randn(n, 6, generator=g), torch.randint(0, 64, (n, 5), generator=g),
                         torch.randint(0, 3, (n,), generator=g))
    model = TabularModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(data, batch_size=8, shuffle=False))
    for epoch in range(2):
        for rid, num, bins, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(rid, num, bins), y)
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}

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
