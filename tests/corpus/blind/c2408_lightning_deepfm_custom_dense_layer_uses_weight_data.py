import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DenseLayer(nn.Module):
    """Hand-written fully connected layer (the project avoids nn.Linear for its custom init)."""

    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units) * (2.0 / in_units) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(units))

    def forward(self, x):
        linear = torch.matmul(x, self.weight.data) + self.bias.data
        return linear


class FMInteraction(nn.Module):
    def forward(self, emb):
        square_of_sum = emb.sum(dim=1).pow(2)
        sum_of_square = emb.pow(2).sum(dim=1)
        return 0.5 * (square_of_sum - sum_of_square).sum(dim=1, keepdim=True)


class DeepFM(nn.Module):
    def __init__(self, field_dims=(20, 15, 10), k=8):
        super().__init__()
        self.offsets = torch.tensor([0, *torch.tensor(field_dims).cumsum(0)[:-1].tolist()])
        n = sum(field_dims)
        self.embedding = nn.Embedding(n, k)
        self.linear_weights = nn.Embedding(n, 1)
        self.fm = FMInteraction()
        self.mlp = nn.Sequential(DenseLayer(len(field_dims) * k, 16), nn.ReLU(), DenseLayer(16, 1))

    def forward(self, fields):
        idx = fields + self.offsets
        emb = self.embedding(idx)
        first_order = self.linear_weights(idx).sum(dim=1)
        return (first_order + self.fm(emb) + self.mlp(emb.flatten(1))).squeeze(1)


class CTRModule(pl.LightningModule):
    def __init__(self, lr=1e-2):
        super().__init__()
        self.model = DeepFM()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        fields, clicked = batch
        loss = F.binary_cross_entropy_with_logits(self.model(fields), clicked)
        self.log("train_logloss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        fields, clicked = batch
        self.log("val_logloss", F.binary_cross_entropy_with_logits(self.model(fields), clicked))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)}


def click_logs(n, seed):
    g = torch.Generator().manual_seed(seed)
    fields = torch.stack([torch.randint(0, d, (n,), generator=g) for d in (20, 15, 10)], dim=1)
    clicked = ((fields[:, 0] + fields[:, 1]) % 3 == 0).float()
    return DataLoader(TensorDataset(fields, clicked), batch_size=16, shuffle=seed == 0)


def main():
    pl.seed_everything(0)
    module = CTRModule()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, click_logs(64, 0), click_logs(32, 1))
    return {"ctr": module}

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
