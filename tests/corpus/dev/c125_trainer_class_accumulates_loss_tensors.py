import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AutoEncoder(nn.Module):
    def __init__(self, dim=24, code=6):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 12), nn.ReLU(), nn.Linear(12, code))
        self.decoder = nn.Sequential(nn.Linear(code, 12), nn.ReLU(), nn.Linear(12, dim))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Trainer:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.history = {"train_loss": []}
        self.epoch_loss = 0.0

    def training_step(self, batch):
        (x,) = batch
        self.optimizer.zero_grad()
        loss = F.mse_loss(self.model(x), x)
        loss.backward()
        self.optimizer.step()
        return loss

    def train_epoch(self, loader):
        self.model.train()
        self.epoch_loss = 0.0
        for batch in loader:
            loss = self.training_step(batch)
            self.epoch_loss += loss
            self.history["train_loss"].append(loss)
        return self.epoch_loss / len(loader)


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(64, 24)), batch_size=16, shuffle=True)
    trainer = Trainer(AutoEncoder())
    for epoch in range(2):
        trainer.train_epoch(loader)
    facts = {
        "history_keeps_graphs": all(t.grad_fn is not None for t in trainer.history["train_loss"]),
        "epoch_loss_keeps_graph": trainer.epoch_loss.requires_grad,
        "stored_loss_tensors": len(trainer.history["train_loss"]),
    }
    return {"model": trainer.model}, facts

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
