import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class TabularNet(nn.Module):
    """Categorical embeddings + numeric features -> price."""

    def __init__(self, cardinalities=(8, 5, 12), n_numeric=6, emb_dim=4, hidden=32):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(c, emb_dim) for c in cardinalities)
        self.numeric_norm = nn.BatchNorm1d(n_numeric)
        self.mlp = nn.Sequential(nn.Linear(len(cardinalities) * emb_dim + n_numeric, hidden), nn.ReLU(),
                                 nn.Dropout(0.1), nn.Linear(hidden, 1))

    def forward(self, cats, nums):
        embs = [emb(cats[:, i]) for i, emb in enumerate(self.embeddings)]
        return self.mlp(torch.cat(embs + [self.numeric_norm(nums)], dim=1)).squeeze(1)


class BestCheckpoint:
    def __init__(self):
        self.best_loss, self.state = float("inf"), None

    def update(self, model, val_loss):
        if val_loss < self.best_loss:
            self.best_loss, self.state = val_loss, copy.deepcopy(model.state_dict())
            return False
        return True  # got worse: caller rolls back

    def restore(self, accelerator):
        model = TabularNet()
        model.load_state_dict(self.state)
        return accelerator.prepare(model)


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    losses = [F.mse_loss(model(c, n), y).item() for c, n, y in loader]
    model.train()
    return sum(losses) / len(losses)


def fit(accelerator, model, optimizer, train_loader, val_loader, epochs=4):
    ckpt = BestCheckpoint()
    for epoch in range(epochs):
        for cats, nums, price in train_loader:
            optimizer.zero_grad()
            accelerator.backward(F.mse_loss(model(cats, nums), price))
            optimizer.step()
        val_loss = evaluate(model, val_loader) if epoch != 1 else float("inf")  # epoch 1: a diverged validation
        if ckpt.update(model, val_loss):
            model = ckpt.restore(accelerator)
    return model


def housing(n, seed):
    g = torch.Generator().manual_seed(seed)
    cats = torch.stack([torch.randint(0, c, (n,), generator=g) for c in (8, 5, 12)], dim=1)
    nums = torch.randn(n, 6, generator=g)
    price = nums[:, 0] * 2 + cats[:, 0].float() * 0.3 + 0.1 * torch.randn(n, generator=g)
    return DataLoader(TensorDataset(cats, nums, price), batch_size=16, shuffle=seed == 0)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    model = TabularNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, housing(64, 0), housing(32, 1))
    final = fit(accelerator, model, optimizer, train_loader, val_loader)
    # fine-tune the returned model for one more step
    before = final.mlp[0].weight.detach().clone()
    cats, nums, price = next(iter(train_loader))
    optimizer.zero_grad()
    accelerator.backward(F.mse_loss(final(cats, nums), price))
    optimizer.step()
    return ({"final": final},
            {"final_updated_by_step": not torch.equal(before, final.mlp[0].weight.detach()),
             "final_model_in_optimizer": any(p is final.mlp[0].weight for g in optimizer.param_groups for p in g["params"])})

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
