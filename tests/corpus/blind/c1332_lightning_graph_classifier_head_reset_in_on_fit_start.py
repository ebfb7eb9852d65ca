import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DenseGCNLayer(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.lin = nn.Linear(cin, cout)

    def forward(self, x, adj):
        a = adj + torch.eye(adj.size(-1))
        deg = a.sum(-1, keepdim=True)
        return F.relu(self.lin((a @ x) / deg))


class GraphClassifier(pl.LightningModule):
    def __init__(self, in_dim=6, hidden=16, num_classes=3):
        super().__init__()
        self.hidden, self.num_classes = hidden, num_classes
        self.gcn1 = DenseGCNLayer(in_dim, hidden)
        self.gcn2 = DenseGCNLayer(hidden, hidden)
        self.classifier = nn.Linear(hidden, 2)

    def on_fit_start(self):
        self.classifier = nn.Linear(self.hidden, self.num_classes)

    def forward(self, x, adj):
        return self.classifier(self.gcn2(self.gcn1(x, adj), adj).mean(1))

    def training_step(self, batch, batch_idx):
        x, adj, y = batch
        return F.cross_entropy(self(x, adj), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=5e-3)


def make_loader():
    g = torch.Generator().manual_seed(34)
    x = torch.randn(30, 7, 6, generator=g)
    adj = (torch.rand(30, 7, 7, generator=g) > 0.6).float()
    adj = ((adj + adj.transpose(1, 2)) > 0).float()
    y = (adj.sum((1, 2)) > 18).long() + (x[:, :, 0].mean(1) > 0).long()
    return DataLoader(TensorDataset(x, adj, y), batch_size=10, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = GraphClassifier()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    head = model.classifier
    opt_params = {id(p) for grp in trainer.optimizers[0].param_groups for p in grp["params"]}
    return {"model": model}, {"head_in_optimizer": id(head.weight) in opt_params}

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
