import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 32, "feat": 24, "out_dim": 48, "n_local": 2, "t_student": 0.1, "t_teacher": 0.04,
       "center_m": 0.9, "ema": 0.99, "koleo": 0.1, "lr": 3e-3, "epochs": 2}


class DINOHead(nn.Module):
    def __init__(self, feat, out_dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(feat, 64), nn.GELU(), nn.Linear(64, 16))
        self.last = nn.Linear(16, out_dim, bias=False)

    def forward(self, x):
        return self.last(F.normalize(self.mlp(x), dim=-1))


def chunk_views(out, n_views, temp):
    """Split a multi-crop batch back into per-view logits, temperature scaled."""
    return (out / temp).detach().chunk(n_views)


def koleo_loss(feats, eps=1e-8):
    z = F.normalize(feats, dim=-1)
    dots = z @ z.t()
    dots.fill_diagonal_(-2.0)
    nn_idx = dots.argmax(dim=1)
    return -torch.log((z - z[nn_idx]).norm(dim=-1) + eps).mean()


def make_crops(x, n_local, gen):
    globals_ = [x + 0.05 * torch.randn(x.shape, generator=gen) for _ in range(2)]
    locals_ = [x * (torch.rand(x.shape, generator=gen) > 0.4).float() for _ in range(n_local)]
    return globals_, locals_


class DINO(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.student_backbone = nn.Sequential(nn.Linear(cfg["in_dim"], 48), nn.GELU(), nn.Linear(48, cfg["feat"]))
        self.student_head = DINOHead(cfg["feat"], cfg["out_dim"])
        self.teacher_backbone = copy.deepcopy(self.student_backbone).requires_grad_(False)
        self.teacher_head = copy.deepcopy(self.student_head).requires_grad_(False)
        self.register_buffer("center", torch.zeros(1, cfg["out_dim"]))
        self.gen = torch.Generator().manual_seed(1)

    def dino_loss(self, s_views, t_views):
        total, terms = 0.0, 0
        for ti, t in enumerate(t_views):
            t_prob = F.softmax(t - self.center / self.cfg["t_teacher"], dim=-1)
            for si, s in enumerate(s_views):
                if si == ti:
                    continue
                total = total + torch.sum(-t_prob * F.log_softmax(s, dim=-1), dim=-1).mean()
                terms += 1
        return total / terms

    def training_step(self, batch, batch_idx):
        (x,) = batch
        globals_, locals_ = make_crops(x, self.cfg["n_local"], self.gen)
        with torch.no_grad():
            t_out = self.teacher_head(self.teacher_backbone(torch.cat(globals_)))
        feats = self.student_backbone(torch.cat(globals_ + locals_))
        s_out = self.student_head(feats)
        t_views = chunk_views(t_out, 2, self.cfg["t_teacher"])
        s_views = chunk_views(s_out, 2 + self.cfg["n_local"], self.cfg["t_student"])
        loss = self.dino_loss(s_views, t_views) + self.cfg["koleo"] * koleo_loss(feats[: len(x)])
        with torch.no_grad():
            self.center.mul_(self.cfg["center_m"]).add_((1 - self.cfg["center_m"]) * t_out.mean(0, keepdim=True))
        self.log("dino_loss", loss.item())
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        m = self.cfg["ema"]
        with torch.no_grad():
            for s_mod, t_mod in ((self.student_backbone, self.teacher_backbone), (self.student_head, self.teacher_head)):
                for ps, pt in zip(s_mod.parameters(), t_mod.parameters()):
                    pt.mul_(m).add_((1 - m) * ps)

    def configure_optimizers(self):
        params = list(self.student_backbone.parameters()) + list(self.student_head.parameters())
        opt = torch.optim.AdamW(params, lr=self.cfg["lr"], weight_decay=0.04)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def unlabeled_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, cfg["in_dim"], generator=g)), batch_size=16, shuffle=True,
                      generator=g)


def main():
    pl.seed_everything(0)
    model = DINO(CFG)
    head0 = model.student_head.last.weight.detach().clone()
    bb0 = model.student_backbone[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, unlabeled_loader(CFG))
    return {"model": model}, {
        "student_head_changed": not torch.equal(head0, model.student_head.last.weight),
        "student_backbone_changed": not torch.equal(bb0, model.student_backbone[0].weight),
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
