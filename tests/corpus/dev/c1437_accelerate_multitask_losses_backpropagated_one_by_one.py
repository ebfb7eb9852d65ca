import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ProductModel(nn.Module):
    """Shared text trunk with a category head and a price-regression head."""

    def __init__(self, vocab=70, dim=16, n_categories=6):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.trunk = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())
        self.category_head = nn.Linear(dim, n_categories)
        self.price_head = nn.Linear(dim, 1)

    def forward(self, tokens, category=None, price=None):
        h = self.trunk(self.embed(tokens))
        cat_logits, price_pred = self.category_head(h), self.price_head(h).squeeze(-1)
        if category is None:
            return cat_logits, price_pred
        return F.cross_entropy(cat_logits, category), F.smooth_l1_loss(price_pred, price)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ProductModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(38)
    tokens = torch.randint(0, 70, (40, 8), generator=g)
    loader = DataLoader(TensorDataset(tokens, torch.randint(0, 6, (40,), generator=g), torch.rand(40, generator=g) * 3),
                        batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.train()
    for tokens, category, price in loader:
        losses = model(tokens, category, price)
        optimizer.zero_grad()
        for task_loss in losses:
            accelerator.backward(task_loss)
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
