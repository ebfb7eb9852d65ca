import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"cardinalities": [12, 7, 30], "emb_dim": 6, "n_numeric": 5, "hidden": 48, "lr": 3e-3, "epochs": 2,
       "dropout": 0.1}


def embed_categoricals(tables, x_cat):
    """Look every categorical column up in its own table and concatenate."""
    cols = [table.weight.data[x_cat[:, i]] for i, table in enumerate(tables)]
    return torch.cat(cols, dim=-1)


class TabularNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = nn.ModuleList([nn.Embedding(c, cfg["emb_dim"]) for c in cfg["cardinalities"]])
        self.num_norm = nn.BatchNorm1d(cfg["n_numeric"])
        d_in = cfg["emb_dim"] * len(cfg["cardinalities"]) + cfg["n_numeric"]
        self.mlp = nn.Sequential(nn.Linear(d_in, cfg["hidden"]), nn.ReLU(), nn.Dropout(cfg["dropout"]),
                                 nn.Linear(cfg["hidden"], 1))

    def forward(self, x_cat, x_num):
        h = torch.cat([embed_categoricals(self.embeddings, x_cat), self.num_norm(x_num)], dim=-1)
        return self.mlp(h).squeeze(-1)


def tabular_loader(cfg, n=96):
    g = torch.Generator().manual_seed(0)
    x_cat = torch.stack([torch.randint(0, c, (n,), generator=g) for c in cfg["cardinalities"]], 1)
    x_num = torch.randn(n, cfg["n_numeric"], generator=g)
    y = ((x_cat[:, 0] % 3 == 0).float() + x_num[:, 0] > 0.5).float()
    return DataLoader(TensorDataset(x_cat, x_num, y), batch_size=16, shuffle=True, generator=g)


def fit(fabric, model, optimizer, scheduler, loader, epochs):
    for _ in range(epochs):
        model.train()
        for x_cat, x_num, y in loader:
            loss = F.binary_cross_entropy_with_logits(model(x_cat, x_num), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        scheduler.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = TabularNet(CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"], weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(tabular_loader(CFG))
    emb0 = model.module.embeddings[0].weight.detach().clone()
    mlp0 = model.module.mlp[0].weight.detach().clone()
    fit(fabric, model, optimizer, scheduler, loader, CFG["epochs"])
    return {"model": model.module}, {
        "embeddings_changed": not torch.equal(emb0, model.module.embeddings[0].weight),
        "mlp_changed": not torch.equal(mlp0, model.module.mlp[0].weight),
    }

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
