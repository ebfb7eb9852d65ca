import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, dim=16, depth=2):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(dim, dim), nn.GELU()) for _ in range(depth))

    def forward(self, x, prompts):
        h = x
        for block, prompt in zip(self.blocks, prompts):
            h = block(h + prompt)
        return h


class MultiModalPromptTuner(pl.LightningModule):
    """Frozen backbone; per-layer visual prompts and per-modality heads are the only trainable parts."""

    def __init__(self, dim=16, depth=2, modalities=("rgb", "thermal"), n_classes=3):
        super().__init__()
        self.automatic_optimization = False
        self.backbone = Backbone(dim, depth).requires_grad_(False)
        self.prompts = nn.ParameterList(nn.Parameter(torch.zeros(dim)) for _ in range(depth))
        self.heads = nn.ModuleDict({m: nn.Linear(dim, n_classes) for m in modalities})
        self.register_buffer("class_counts", torch.ones(n_classes))

    def training_step(self, batch, batch_idx):
        x, y, modality = batch
        prompt_opt, head_opt = self.optimizers()
        h = self.backbone(x, self.prompts)
        logits = torch.where(modality[:, None] == 0, self.heads["rgb"](h), self.heads["thermal"](h))
        weights = (self.class_counts.sum() / self.class_counts) / len(self.class_counts)
        loss = F.cross_entropy(logits, y, weight=weights)
        prompt_opt.zero_grad()
        head_opt.zero_grad()
        self.manual_backward(loss)
        prompt_opt.step()
        head_opt.step()
        self.class_counts += torch.bincount(y, minlength=len(self.class_counts))
        self.log("loss", loss)

    def on_train_epoch_end(self):
        for sched in self.lr_schedulers():
            sched.step()

    def configure_optimizers(self):
        prompt_opt = torch.optim.Adam(self.prompts.parameters(), lr=1e-2)
        head_opt = torch.optim.SGD(self.heads.parameters(), lr=5e-2, momentum=0.9)
        return [prompt_opt, head_opt], [torch.optim.lr_scheduler.StepLR(prompt_opt, 1, 0.5),
                                        torch.optim.lr_scheduler.StepLR(head_opt, 1, 0.5)]


def main():
    pl.seed_everything(113)
    g = torch.Generator().manual_seed(113)
    x = torch.randn(48, 16, generator=g)
    y = torch.randint(0, 3, (48,), generator=g)
    modality = torch.randint(0, 2, (48,), generator=g)
    loader = DataLoader(TensorDataset(x, y, modality), batch_size=12, shuffle=True, generator=g)
    model = MultiModalPromptTuner()
    backbone0 = model.backbone.blocks[0][0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"prompts": model.prompts, "heads": model.heads}, {
        "prompts_changed": bool(model.prompts[0].abs().sum() > 0),
        "backbone_changed": not torch.equal(backbone0, model.backbone.blocks[0][0].weight),
        "class_counts_updated": bool(model.class_counts.sum() > 3)}

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
