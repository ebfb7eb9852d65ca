import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

HP = {"levels": 3, "table_size": 256, "features": 2, "base_res": 4, "growth": 2.0, "hidden": 32,
      "lr_grid": 1e-2, "lr_mlp": 1e-3, "steps": 4}
PRIMES = (1, 2654435761)


class GridEncodeFn(torch.autograd.Function):
    """Bilinear lookup into one hash-grid level. Fused forward; hand-written backward."""

    @staticmethod
    def forward(ctx, coords, table, resolution):
        pos = coords * resolution
        base = pos.floor().long()
        frac = pos - base
        offsets = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
        corners = base[:, None] + offsets                                   # (P, 4, 2)
        idx = (corners[..., 0] * PRIMES[0] ^ corners[..., 1] * PRIMES[1]) % table.shape[0]
        w = torch.where(offsets.bool(), frac[:, None], 1 - frac[:, None]).prod(-1)  # (P, 4)
        ctx.save_for_backward(idx, w, frac)
        ctx.table_shape, ctx.resolution = table.shape, resolution
        return (table[idx] * w[..., None]).sum(1)

    @staticmethod
    def backward(ctx, grad_out):
        idx, w, frac = ctx.saved_tensors
        grad_coords = None
        if ctx.needs_input_grad[0]:
            grad_coords = torch.zeros(len(frac), 2)  # positions are not optimized in this setup
        return grad_coords, None, None


class HashGrid(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.resolutions = [int(hp["base_res"] * hp["growth"] ** l) for l in range(hp["levels"])]
        self.tables = nn.ParameterList([nn.Parameter(torch.empty(hp["table_size"], hp["features"]).uniform_(-1e-4, 1e-4))
                                        for _ in self.resolutions])

    def forward(self, coords):
        return torch.cat([GridEncodeFn.apply(coords, t, r) for t, r in zip(self.tables, self.resolutions)], -1)


class NeuralImage(pl.LightningModule):
    """Instant-NGP style gigapixel image fitting: hash grid + tiny MLP, two optimizers with different settings."""

    def __init__(self, hp):
        super().__init__()
        self.hp = hp
        self.automatic_optimization = False
        self.grid = HashGrid(hp)
        self.mlp = nn.Sequential(nn.Linear(hp["levels"] * hp["features"], hp["hidden"]), nn.ReLU(),
                                 nn.Linear(hp["hidden"], hp["hidden"]), nn.ReLU(), nn.Linear(hp["hidden"], 3))

    def forward(self, coords):
        return torch.sigmoid(self.mlp(self.grid(coords)))

    def training_step(self, batch, batch_idx):
        opt_grid, opt_mlp = self.optimizers()
        coords, rgb = batch
        loss = F.mse_loss(self(coords), rgb)
        opt_grid.zero_grad()
        opt_mlp.zero_grad()
        self.manual_backward(loss)
        opt_grid.step()
        opt_mlp.step()
        self.log("train/psnr", (-10 * torch.log10(loss)).item())

    def configure_optimizers(self):
        opt_grid = torch.optim.Adam(self.grid.parameters(), lr=self.hp["lr_grid"], betas=(0.9, 0.99), eps=1e-15)
        opt_mlp = torch.optim.Adam(self.mlp.parameters(), lr=self.hp["lr_mlp"], weight_decay=1e-6)
        return [opt_grid, opt_mlp]


def image_pixels(n=256):
    g = torch.Generator().manual_seed(0)
    coords = torch.rand(n, 2, generator=g)
    rgb = torch.stack([torch.sin(6 * coords[:, 0]), torch.cos(4 * coords[:, 1]), coords.prod(-1)], -1) * 0.5 + 0.5
    return DataLoader(TensorDataset(coords, rgb), batch_size=64, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = NeuralImage(HP)
    t0 = model.grid.tables[0].detach().clone()
    m0 = model.mlp[0].weight.detach().clone()
    trainer = pl.Trainer(max_steps=HP["steps"], logger=False, enable_checkpointing=False)
    trainer.fit(model, image_pixels())
    return {"model": model}, {
        "hash_table_changed": not torch.equal(t0, model.grid.tables[0]),
        "mlp_changed": not torch.equal(m0, model.mlp[0].weight),
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
