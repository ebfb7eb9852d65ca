import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Projector(nn.Module):
    def __init__(self, in_dim=24, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return F.normalize(self.net(x), dim=-1)


def augment(x, noise=0.1):
    return x + noise * torch.randn_like(x) * (torch.rand_like(x) > 0.2)


class ContrastiveWithCarryOverNegatives(pl.LightningModule):
    """InfoNCE between two views; the previous batch's keys are reused as extra negatives."""

    def __init__(self, temperature=0.2):
        super().__init__()
        self.encoder = Projector()
        self.temperature = temperature
        self.extra_negatives = None

    def info_nce(self, q, k):
        negatives = k if self.extra_negatives is None else torch.cat([k, self.extra_negatives], dim=0)
        logits = q @ negatives.t() / self.temperature
        return F.cross_entropy(logits, torch.arange(q.size(0)))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        q, k = self.encoder(augment(x)), self.encoder(augment(x))
        loss = self.info_nce(q, k)
        self.log("nce", loss)
        return {"loss": loss, "keys": k}

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.extra_negatives = outputs["keys"]

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)


def main():
    pl.seed_everything(8)
    g = torch.Generator().manual_seed(8)
    loader = DataLoader(TensorDataset(torch.randn(64, 24, generator=g)), batch_size=16, shuffle=True, generator=g)
    model = ContrastiveWithCarryOverNegatives()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"encoder": model.encoder}

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
