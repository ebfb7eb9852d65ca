import itertools
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"num_queries": 4, "hidden": 32, "num_classes": 3, "dec_layers": 2, "aux_loss": True,
       "lr": 1e-3, "lr_backbone": 1e-4, "w_bbox": 5.0}


def hungarian_match(cost):
    """Tiny exact matcher (queries x targets) for the few boxes per image used here."""
    nq, nt = cost.shape
    best, best_perm = None, None
    for perm in itertools.permutations(range(nq), nt):
        c = sum(cost[q, t] for t, q in enumerate(perm))
        if best is None or c < best:
            best, best_perm = c, perm
    return list(best_perm)


def expand_queries(query_embed, batch_size):
    """Object queries for the decoder (shared with the export script, which traces with a fixed batch)."""
    queries = query_embed.weight.unsqueeze(0).repeat(batch_size, 1, 1)
    return queries.detach()


class TinyDETR(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden"]
        self.backbone = nn.Sequential(nn.Conv2d(3, h, 4, stride=4), nn.ReLU(), nn.Conv2d(h, h, 3, padding=1))
        self.query_embed = nn.Embedding(cfg["num_queries"], h)
        layer = nn.TransformerDecoderLayer(h, 4, 64, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, cfg["dec_layers"])
        self.class_embed = nn.Linear(h, cfg["num_classes"] + 1)
        self.bbox_embed = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 4))

    def forward(self, images):
        memory = self.backbone(images).flatten(2).transpose(1, 2)
        tgt = expand_queries(self.query_embed, images.size(0))
        outs, x = [], tgt
        for layer in self.decoder.layers:
            x = layer(x, memory)
            outs.append((self.class_embed(x), self.bbox_embed(x).sigmoid()))
        return outs


class DetrModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = TinyDETR(cfg)

    def set_loss(self, logits, boxes, gt_labels, gt_boxes):
        loss = 0.0
        for b in range(logits.size(0)):
            with torch.no_grad():
                cost = -logits[b].softmax(-1)[:, gt_labels[b]] + torch.cdist(boxes[b], gt_boxes[b], p=1)
            match = hungarian_match(cost)
            target_cls = torch.full((logits.size(1),), self.cfg["num_classes"], dtype=torch.long)
            target_cls[match] = gt_labels[b]
            loss = loss + F.cross_entropy(logits[b], target_cls)
            loss = loss + self.cfg["w_bbox"] * F.l1_loss(boxes[b][match], gt_boxes[b])
        return loss / logits.size(0)

    def training_step(self, batch, batch_idx):
        images, gt_labels, gt_boxes = batch
        outs = self.model(images)
        layers = outs if self.cfg["aux_loss"] else outs[-1:]
        loss = sum(self.set_loss(lg, bx, gt_labels, gt_boxes) for lg, bx in layers)
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        backbone = list(self.model.backbone.parameters())
        ids = {id(p) for p in backbone}
        rest = [p for p in self.model.parameters() if id(p) not in ids]
        opt = torch.optim.AdamW([{"params": rest, "lr": self.cfg["lr"]},
                                 {"params": backbone, "lr": self.cfg["lr_backbone"]}], weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def box_dataset(n=12):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(n, 3, 16, 16, generator=g)
    labels = torch.randint(0, CFG["num_classes"], (n, 2), generator=g)
    xy = torch.rand(n, 2, 2, generator=g) * 0.5
    boxes = torch.cat([xy, xy + 0.3], dim=-1)
    return DataLoader(TensorDataset(images, labels, boxes), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = DetrModule(CFG)
    q0 = module.model.query_embed.weight.detach().clone()
    c0 = module.model.class_embed.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, box_dataset())
    return {"model": module.model}, {
        "query_embed_changed": not torch.equal(q0, module.model.query_embed.weight),
        "class_head_changed": not torch.equal(c0, module.model.class_embed.weight),
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
