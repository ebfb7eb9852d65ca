import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class MoleculeBatchDataset(Dataset):
    """Each item is one small molecular graph: atom features, bond index pairs, and multitask targets."""

    def __init__(self, n=12, atoms=6, feat=8, tasks=3):
        g = torch.Generator().manual_seed(0)
        self.items = []
        for _ in range(n):
            x = torch.randn(atoms, feat, generator=g)
            src = torch.arange(atoms - 1)
            edges = torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])
            y = torch.randn(tasks, generator=g)
            self.items.append((x, edges, y))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate_graphs(batch):
    xs, es, ys, owners, offset = [], [], [], [], 0
    for k, (x, e, y) in enumerate(batch):
        xs.append(x)
        es.append(e + offset)
        ys.append(y)
        owners.append(torch.full((x.size(0),), k))
        offset += x.size(0)
    return torch.cat(xs), torch.cat(es, 1), torch.stack(ys), torch.cat(owners)


class BondMessagePassing(nn.Module):
    def __init__(self, feat=8, hidden=32, depth=3):
        super().__init__()
        self.W_i = nn.Linear(feat, hidden)
        self.W_h = nn.Linear(hidden, hidden)
        self.W_o = nn.Linear(feat + hidden, hidden)
        self.depth = depth

    def forward(self, x, edges):
        h0 = F.relu(self.W_i(x))
        h = h0
        for _ in range(self.depth - 1):
            msg = torch.zeros_like(h).index_add(0, edges[1], h[edges[0]])
            h = F.relu(h0 + self.W_h(msg))
        return F.relu(self.W_o(torch.cat([x, h], dim=1)))


class MultitaskMPNN(pl.LightningModule):
    def __init__(self, task_weights=(1.0, 0.5, 2.0)):
        super().__init__()
        self.mp = BondMessagePassing()
        self.ffn = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, len(task_weights)))
        self.task_weights = nn.Parameter(torch.tensor(task_weights), requires_grad=False)
        self.register_buffer("y_mean", torch.zeros(len(task_weights)))

    def forward(self, x, edges, owners, n_graphs):
        atom_h = self.mp(x, edges)
        mol_h = torch.zeros(n_graphs, atom_h.size(1)).index_add(0, owners, atom_h)
        return self.ffn(mol_h)

    def training_step(self, batch, batch_idx):
        x, edges, y, owners = batch
        pred = self(x, edges, owners, y.size(0))
        per_task = F.mse_loss(pred, y - self.y_mean, reduction="none").mean(0)
        loss = (per_task * self.task_weights).sum() / self.task_weights.sum()
        self.log("train_loss", loss.detach())
        return loss

    def validation_step(self, batch, batch_idx):
        x, edges, y, owners = batch
        self.log("val_mse", F.mse_loss(self(x, edges, owners, y.size(0)), y - self.y_mean))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.95)}


def main():
    pl.seed_everything(0)
    ds = MoleculeBatchDataset()
    model = MultitaskMPNN()
    loader = DataLoader(ds, batch_size=4, shuffle=True, collate_fn=collate_graphs)
    val = DataLoader(ds, batch_size=6, collate_fn=collate_graphs)
    before = model.mp.W_h.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader, val)
    changed = not torch.equal(before, model.mp.W_h.weight)
    return {"mp": model.mp, "ffn": model.ffn}, {"message_passing_changed": changed}

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
