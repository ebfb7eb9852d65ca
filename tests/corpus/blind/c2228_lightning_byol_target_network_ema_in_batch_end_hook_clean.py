import copy
import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mlp_head(in_dim, hidden=32, out=16):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out))


class SiameseArm(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.projector = mlp_head(16)

    def forward(self, x):
        return self.projector(self.encoder(x))


class BYOL(pl.LightningModule):
    def __init__(self, base_tau=0.99, lr=1e-2, max_steps=8):
        super().__init__()
        self.online_network = SiameseArm()
        self.predictor = mlp_head(16)
        self.target_network = copy.deepcopy(self.online_network)
        self.target_network.requires_grad_(False)
        self.base_tau, self.lr, self.max_steps = base_tau, lr, max_steps

    def regression_loss(self, p, z):
        return 2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1).mean()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = torch.flip(x, dims=[3]), x + 0.1 * torch.randn_like(x)
        p1, p2 = self.predictor(self.online_network(v1)), self.predictor(self.online_network(v2))
        with torch.no_grad():
            z1, z2 = self.target_network(v1), self.target_network(v2)
        loss = self.regression_loss(p1, z2) + self.regression_loss(p2, z1)
        self.log("byol_loss", loss.item())
        return loss

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        tau = 1 - (1 - self.base_tau) * (math.cos(math.pi * self.global_step / self.max_steps) + 1) / 2
        for online_p, target_p in zip(self.online_network.parameters(), self.target_network.parameters()):
            target_p.data = tau * target_p.data + (1 - tau) * online_p.data

    def configure_optimizers(self):
        return torch.optim.SGD(list(self.online_network.parameters()) + list(self.predictor.parameters()),
                               lr=self.lr, momentum=0.9)


def main():
    pl.seed_everything(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 3, 8, 8)), batch_size=8, shuffle=True)
    model = BYOL()
    t0 = model.target_network.encoder[0].weight.detach().clone()
    o0 = model.online_network.encoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"online_network": model.online_network, "predictor": model.predictor},
            {"online_changed": not torch.equal(o0, model.online_network.encoder[0].weight),
             "target_changed": not torch.equal(t0, model.target_network.encoder[0].weight)})

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
