import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class NeuMF(nn.Module):
    def __init__(self, n_users=30, n_items=40, dim=8):
        super().__init__()
        self.user_gmf, self.item_gmf = nn.Embedding(n_users, dim), nn.Embedding(n_items, dim)
        self.user_mlp, self.item_mlp = nn.Embedding(n_users, dim), nn.Embedding(n_items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 16), nn.ReLU(), nn.Linear(16, dim))
        self.predict = nn.Linear(2 * dim, 1)

    def forward(self, users, items):
        gmf = self.user_gmf(users) * self.item_gmf(items)
        mlp = self.mlp(torch.cat([self.user_mlp(users), self.item_mlp(items)], dim=-1))
        return self.predict(torch.cat([gmf, mlp], dim=-1)).squeeze(-1)


def make_optimizer(model):
    sparse = [p for n, p in model.named_parameters() if "user_" in n or "item_" in n]
    dense = [p for n, p in model.named_parameters() if not ("user_" in n or "item_" in n)]
    return torch.optim.Adam([{"params": sparse, "lr": 5e-3}, {"params": dense, "lr": 1e-3, "weight_decay": 1e-4}])


def place(model, device, dtype=torch.float32):
    model.to(device)
    model.to(dtype)
    return model


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for users, items, clicked in loader:
            loss = F.binary_cross_entropy_with_logits(model(users, items), clicked)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


@torch.no_grad()
def hit_rate(model, users, items, clicked):
    model.eval()
    scores = torch.sigmoid(model(users, items))
    return ((scores > 0.5).float() == clicked).float().mean().item()


def main():
    torch.manual_seed(0)
    model = NeuMF()
    optimizer = make_optimizer(model)
    model = place(model, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    users, items = torch.randint(0, 30, (64,), generator=g), torch.randint(0, 40, (64,), generator=g)
    clicked = ((users + items) % 3 == 0).float()
    loader = DataLoader(TensorDataset(users, items, clicked), batch_size=16, shuffle=True)
    before = model.user_gmf.weight.detach().clone()
    train(model, loader, optimizer)
    hit_rate(model, users, items, clicked)
    model.train()
    F.binary_cross_entropy_with_logits(model(users, items), clicked).backward()
    changed = not torch.equal(before, model.user_gmf.weight)
    return {"model": model}, {"user_embedding_changed": changed}

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
