import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FeatureTokenizer(nn.Module):
    def __init__(self, n_num=6, cat_cards=(4, 7), dim=8):
        super().__init__()
        self.num_weight = nn.Parameter(torch.randn(n_num, dim) * 0.1)
        self.cat_embs = nn.ModuleList(nn.Embedding(c, dim) for c in cat_cards)

    def forward(self, x_num, x_cat):
        num_tokens = x_num[..., None] * self.num_weight
        cat_tokens = torch.stack([emb(x_cat[:, i]) for i, emb in enumerate(self.cat_embs)], dim=1)
        return torch.cat([num_tokens, cat_tokens], dim=1)


class ChurnModel(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.tokenizer = FeatureTokenizer(dim=dim)
        self.mixer = nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Linear(16, dim))
        self.head = nn.Linear(dim, 1)

    def forward(self, x_num, x_cat):
        tokens = self.tokenizer(x_num, x_cat)
        return self.head((tokens + self.mixer(tokens)).mean(dim=1)).squeeze(-1)


def evaluate(model, loader):
    model.eval()
    torch.set_grad_enabled(False)
    correct = total = 0
    for x_num, x_cat, y in loader:
        pred = (model(x_num, x_cat) > 0).float()
        correct += (pred == y).sum().item()
        total += len(y)
    model.train()
    return correct / total


def train(model, train_loader, val_loader, optimizer, epochs=3):
    history = []
    for epoch in range(epochs):
        model.train()
        for x_num, x_cat, y in train_loader:
            loss = F.binary_cross_entropy_with_logits(model(x_num, x_cat), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        history.append(evaluate(model, val_loader))
    return history


def main():
    torch.manual_seed(0)
    x_num = torch.randn(48, 6)
    x_cat = torch.stack([torch.randint(0, 4, (48,)), torch.randint(0, 7, (48,))], dim=1)
    y = (x_num[:, 0] + 0.5 * x_num[:, 1] > 0).float()
    train_loader = DataLoader(TensorDataset(x_num[:32], x_cat[:32], y[:32]), batch_size=8, shuffle=True)
    val_loader = DataLoader(TensorDataset(x_num[32:], x_cat[32:], y[32:]), batch_size=8)
    model = ChurnModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    train(model, train_loader, val_loader, optimizer)
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
