import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchEncoder(nn.Module):
    def __init__(self, dim=16, depth=2):
        super().__init__()
        self.embed = nn.Linear(8, dim)
        layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, depth)
        self.mask_token = nn.Parameter(torch.zeros(dim))

    def forward(self, patches, mask=None):
        x = self.embed(patches)
        if mask is not None:
            x = torch.where(mask[..., None], self.mask_token.expand_as(x), x)
        return self.layers(x)


class Data2VecModule(pl.LightningModule):
    def __init__(self, ema_decay=0.99):
        super().__init__()
        self.student = PatchEncoder()
        self.teacher = copy.deepcopy(self.student).requires_grad_(False)
        self.regression_head = nn.Linear(16, 16)
        self.ema_decay = ema_decay

    @torch.no_grad()
    def encode(self, net, patches, mask=None):
        # shared by the teacher targets and the student predictions
        return net(patches, mask)

    @torch.no_grad()
    def ema_update(self):
        for ps, pt in zip(self.student.parameters(), self.teacher.parameters()):
            pt.mul_(self.ema_decay).add_(ps.detach(), alpha=1 - self.ema_decay)

    def training_step(self, batch, batch_idx):
        (patches,) = batch
        mask = torch.rand(patches.shape[:2], device=patches.device) < 0.5
        targets = F.layer_norm(self.encode(self.teacher, patches), (16,))
        preds = self.regression_head(self.encode(self.student, patches, mask))
        loss = F.smooth_l1_loss(preds[mask], targets[mask])
        self.log("loss", loss.item())
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.ema_update()

    def configure_optimizers(self):
        params = list(self.student.parameters()) + list(self.regression_head.parameters())
        opt = torch.optim.AdamW(params, lr=1e-3)
        return [opt], [torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 4))]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(24, 6, 8, generator=g)), batch_size=8, shuffle=True, generator=g)
    module = Data2VecModule()
    w0 = module.student.embed.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, loader)
    facts = {"student_changed": not torch.equal(w0, module.student.embed.weight)}
    return {"student": module.student, "regression_head": module.regression_head}, facts

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
