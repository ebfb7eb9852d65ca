import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"feat": 32, "hidden": 48, "queries": 6, "classes": 4, "max_objs": 3, "cls_w": 1.0, "box_w": 5.0,
       "aux": True, "lr": 2e-3, "epochs": 2}


class TinyDETR(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(cfg["feat"], cfg["hidden"]), nn.ReLU())
        self.query_embed = nn.Embedding(cfg["queries"], cfg["hidden"])
        self.decoder = nn.ModuleList([nn.Linear(2 * cfg["hidden"], cfg["hidden"]) for _ in range(2)])
        self.class_head = nn.Linear(cfg["hidden"], cfg["classes"] + 1)
        self.bbox_head = nn.Sequential(nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU(),
                                       nn.Linear(cfg["hidden"], 4))

    def forward(self, x):
        mem = self.backbone(x)                                  # (B, H)
        q = self.query_embed.weight.unsqueeze(0).expand(x.size(0), -1, -1)
        outs = []
        for layer in self.decoder:
            q = q + torch.relu(layer(torch.cat([q, mem.unsqueeze(1).expand_as(q)], -1)))
            outs.append({"logits": self.class_head(q), "boxes": self.bbox_head(q).sigmoid()})
        return outs


@torch.no_grad()
def greedy_match(logits, boxes, tgt_cls, tgt_box):
    """Cheap stand-in for Hungarian matching: each target takes its cheapest free query."""
    cost = -logits.softmax(-1)[:, tgt_cls] + torch.cdist(boxes, tgt_box, p=1)
    taken, pairs = set(), []
    for t in range(tgt_cls.numel()):
        order = cost[:, t].argsort()
        q = next(int(i) for i in order if int(i) not in taken)
        taken.add(q)
        pairs.append(q)
    return torch.tensor(pairs)


def gather_matched(pred, idx):
    """Pick the matched queries' predictions for the box losses."""
    return pred.detach()[idx]


class SetCriterion:
    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, out, tgt_cls, tgt_box):
        loss = 0.0
        for b in range(tgt_cls.size(0)):
            idx = greedy_match(out["logits"][b], out["boxes"][b], tgt_cls[b], tgt_box[b])
            target_classes = torch.full((out["logits"].size(1),), self.cfg["classes"], dtype=torch.long)
            target_classes[idx] = tgt_cls[b]
            loss = loss + self.cfg["cls_w"] * F.cross_entropy(out["logits"][b], target_classes)
            loss = loss + self.cfg["box_w"] * F.l1_loss(gather_matched(out["boxes"][b], idx), tgt_box[b])
        return loss / tgt_cls.size(0)


class DETRModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = TinyDETR(cfg)
        self.criterion = SetCriterion(cfg)

    def training_step(self, batch, batch_idx):
        x, tgt_cls, tgt_box = batch
        outs = self.model(x)
        layers = outs if self.cfg["aux"] else outs[-1:]
        loss = sum(self.criterion(o, tgt_cls, tgt_box) for o in layers)
        self.log("train_loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg["lr"], weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def detection_loader(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["feat"], generator=g)
    cls = torch.randint(0, cfg["classes"], (n, cfg["max_objs"]), generator=g)
    box = torch.rand(n, cfg["max_objs"], 4, generator=g)
    return DataLoader(TensorDataset(x, cls, box), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = DETRModule(CFG)
    box0 = module.model.bbox_head[2].weight.detach().clone()
    cls0 = module.model.class_head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(module, detection_loader(CFG))
    x, c, b = next(iter(detection_loader(CFG)))
    module.zero_grad()
    sum(module.criterion(o, c, b) for o in module.model(x)).backward()
    return {"model": module.model}, {
        "bbox_head_changed": not torch.equal(box0, module.model.bbox_head[2].weight),
        "class_head_changed": not torch.equal(cls0, module.model.class_head.weight),
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
