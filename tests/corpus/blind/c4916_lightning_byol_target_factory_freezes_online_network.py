import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def mlp(a, b, c):
    return nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Linear(b, c))


def make_target(online):
    """Momentum target: a frozen copy of the online encoder + projector."""
    target = copy.deepcopy(online)
    for p in online.parameters():
        p.requires_grad = False
    return target


class BYOL(pl.LightningModule):
    def __init__(self, in_dim=20, dim=8, tau=0.99):
        super().__init__()
        self.tau = tau
        self.online = nn.Sequential(mlp(in_dim, 32, 16), mlp(16, 32, dim))
        self.predictor = mlp(dim, 32, dim)
        self.target = make_target(self.online)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = x + 0.1 * torch.randn_like(x), x + 0.1 * torch.randn_like(x)
        p1, p2 = self.predictor(self.online(v1)), self.predictor(self.online(v2))
        with torch.no_grad():
            z1, z2 = self.target(v1), self.target(v2)
        loss = (2 - 2 * F.cosine_similarity(p1, z2, dim=-1)).mean() + (2 - 2 * F.cosine_similarity(p2, z1, dim=-1)).mean()
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


class MomentumUpdate(pl.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        with torch.no_grad():
            for po, pt in zip(pl_module.online.parameters(), pl_module.target.parameters()):
                pt.mul_(pl_module.tau).add_(po, alpha=1 - pl_module.tau)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    model = BYOL()
    on0, pred0 = model.online[0][0].weight.detach().clone(), model.predictor[0].weight.detach().clone()
    loader = DataLoader(TensorDataset(torch.randn(64, 20, generator=g)), batch_size=16, shuffle=True, generator=g)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[MomentumUpdate()]).fit(model, loader)
    return {"online": model.online, "predictor": model.predictor}, {
        "online_changed": not torch.equal(on0, model.online[0][0].weight),
        "predictor_changed": not torch.equal(pred0, model.predictor[0].weight)}

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
