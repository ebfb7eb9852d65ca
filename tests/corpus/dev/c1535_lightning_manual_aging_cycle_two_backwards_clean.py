import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AgeConditionedGenerator(nn.Module):
    """Maps a face code plus a target age to an edited face code."""

    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x, age):
        return x + self.net(torch.cat([x, age.unsqueeze(-1)], dim=-1))


class AgeRegressor(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class AgingCycle(pl.LightningModule):
    def __init__(self, w_age=1.0, w_id=0.5):
        super().__init__()
        self.automatic_optimization = False
        self.generator = AgeConditionedGenerator()
        self.age_regressor = AgeRegressor()
        self.age_regressor.requires_grad_(False)
        self.w_age, self.w_id = w_age, w_id

    def edit_loss(self, x, x_hat, target_age):
        return self.w_age * F.mse_loss(self.age_regressor(x_hat), target_age) + self.w_id * F.l1_loss(x_hat, x)

    def training_step(self, batch, batch_idx):
        x, source_age = batch
        opt = self.optimizers()
        target_age = torch.rand_like(source_age)
        opt.zero_grad()

        y_hat = self.generator(x, target_age)
        forward_loss = self.edit_loss(x, y_hat, target_age)
        self.manual_backward(forward_loss)

        x_rec = self.generator(y_hat.detach(), source_age)
        cycle_loss = self.edit_loss(x, x_rec, source_age)
        self.manual_backward(cycle_loss)

        opt.step()
        self.log_dict({"forward": forward_loss, "cycle": cycle_loss})

    def configure_optimizers(self):
        return torch.optim.Adam(self.generator.parameters(), lr=1e-3)


def main():
    pl.seed_everything(6)
    g = torch.Generator().manual_seed(6)
    codes = torch.randn(48, 16, generator=g)
    ages = torch.rand(48, generator=g)
    loader = DataLoader(TensorDataset(codes, ages), batch_size=12, shuffle=True, generator=g)
    model = AgingCycle()
    w0 = model.generator.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"generator": model.generator}, {"generator_changed": not torch.equal(w0, model.generator.net[0].weight),
                                            "regressor_has_grad": any(p.grad is not None for p in model.age_regressor.parameters())}

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
