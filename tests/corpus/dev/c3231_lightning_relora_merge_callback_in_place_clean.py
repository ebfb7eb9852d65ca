import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LoRALinear(nn.Module):
    def __init__(self, d_in, d_out, r=2, alpha=4.0):
        super().__init__()
        self.base = nn.Linear(d_in, d_out)
        self.base.weight.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.randn(r, d_in) * 0.1)
        self.lora_B = nn.Parameter(torch.zeros(d_out, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scale

    @torch.no_grad()
    def merge_and_reset(self):
        self.base.weight.add_(self.lora_B @ self.lora_A * self.scale)
        self.lora_B.zero_()
        self.lora_A.normal_(0, 0.1)


class LoRAMLP(nn.Module):
    def __init__(self, d=16, n_cls=4):
        super().__init__()
        self.blocks = nn.ModuleList(LoRALinear(d, d) for _ in range(2))
        self.head = nn.Linear(d, n_cls)

    def forward(self, x):
        for blk in self.blocks:
            x = F.gelu(blk(x))
        return self.head(x)


class ReLoRAMerge(pl.Callback):
    def __init__(self, every=3):
        self.every = every

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (batch_idx + 1) % self.every == 0:
            for blk in pl_module.model.blocks:
                blk.merge_and_reset()
            for opt in trainer.optimizers:
                opt.state.clear()


class ReLoRAModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = LoRAMLP()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.model(x), y)

    def configure_optimizers(self):
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=1e-2)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(24, 16, generator=g), torch.randint(0, 4, (24,), generator=g))
    module = ReLoRAModule()
    w0 = module.model.blocks[0].base.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, callbacks=[ReLoRAMerge()], logger=False, enable_checkpointing=False)
    trainer.fit(module, DataLoader(data, batch_size=4))
    blk = module.model.blocks[0]
    facts = {"base_changed_by_merge": not torch.equal(w0, blk.base.weight),
             "lora_B_reset": bool(blk.lora_B.abs().sum() < 1.0)}
    return {"model": module.model}, facts

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
