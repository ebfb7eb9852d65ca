import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning as L

TASK_CLASSES = {"species": 5, "habitat": 3}


class MultiTaskModel(L.LightningModule):
    def __init__(self, in_dim=12, hidden=24, tasks=TASK_CLASSES, lr=1e-2):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.task_names = list(tasks)
        self.heads = [nn.Linear(hidden, n) for n in tasks.values()]
        self.lr = lr

    def forward(self, x):
        h = self.backbone(x)
        return {name: head(h) for name, head in zip(self.task_names, self.heads)}

    def training_step(self, batch, batch_idx):
        x, y_species, y_habitat = batch
        out = self(x)
        loss = F.cross_entropy(out["species"], y_species) + F.cross_entropy(out["habitat"], y_habitat)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    L.seed_everything(0)
    n = 48
    data = TensorDataset(torch.randn(n, 12), torch.randint(0, 5, (n,)), torch.randint(0, 3, (n,)))
    model = MultiTaskModel()
    head_before = model.heads[0].weight.detach().clone()
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(data, batch_size=16, shuffle=True))
    facts = {"species_head_changed": not torch.equal(head_before, model.heads[0].weight.detach()),
             "n_registered_tensors": len(list(model.parameters()))}
    return {"model": model, "species_head": model.heads[0]}, facts

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
