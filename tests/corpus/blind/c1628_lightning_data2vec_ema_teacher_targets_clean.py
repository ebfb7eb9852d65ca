import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, dim=16, depth=3):
        super().__init__()
        self.embed = nn.Linear(8, dim)
        self.layers = nn.ModuleList(nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU()) for _ in range(depth))
        self.mask_token = nn.Parameter(torch.zeros(dim))

    def forward(self, x, mask=None):
        h = self.embed(x)
        if mask is not None:
            h = torch.where(mask.unsqueeze(-1), self.mask_token.expand_as(h), h)
        states = []
        for layer in self.layers:
            h = h + layer(h + h.mean(dim=1, keepdim=True))
            states.append(h)
        return h, states


class EMATeacher:
    def __init__(self, student, decay=0.99):
        self.model = copy.deepcopy(student)
        self.model.requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def step(self, student):
        for ema_p, p in zip(self.model.parameters(), student.parameters()):
            ema_p.lerp_(p, 1.0 - self.decay)


class Data2VecLite(pl.LightningModule):
    def __init__(self, top_k=2, mask_prob=0.4, lr=3e-3):
        super().__init__()
        self.student = Encoder()
        self.regression_head = nn.Linear(16, 16)
        self.ema = EMATeacher(self.student)
        self.top_k, self.mask_prob, self.lr = top_k, mask_prob, lr

    def targets(self, x):
        with torch.no_grad():
            self.ema.model.eval()
            _, states = self.ema.model(x)
            top = [F.layer_norm(s, s.shape[-1:]) for s in states[-self.top_k:]]
            return sum(top) / len(top)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        mask = torch.rand(x.shape[:2], generator=torch.Generator().manual_seed(batch_idx)) < self.mask_prob
        h, _ = self.student(x, mask)
        pred = self.regression_head(h[mask])
        loss = F.smooth_l1_loss(pred, self.targets(x)[mask])
        self.log("train/loss", loss.detach())
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.ema.step(self.student)

    def configure_optimizers(self):
        return torch.optim.AdamW(list(self.student.parameters()) + list(self.regression_head.parameters()), lr=self.lr)


def main():
    pl.seed_everything(2)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(40, 10, 8, generator=g).cumsum(dim=1) / 3
    loader = DataLoader(TensorDataset(x), batch_size=8, shuffle=True, generator=g)
    model = Data2VecLite()
    s0 = model.student.embed.weight.detach().clone()
    t0 = model.ema.model.embed.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"student_changed": not torch.equal(s0, model.student.embed.weight),
             "teacher_changed": not torch.equal(t0, model.ema.model.embed.weight),
             "teacher_has_grad": any(p.grad is not None for p in model.ema.model.parameters())})

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
