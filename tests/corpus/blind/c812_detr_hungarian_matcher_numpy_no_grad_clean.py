import itertools
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def linear_sum_assignment(cost):
    """Tiny exact assignment for small matrices (rows = queries, cols = targets), like scipy's."""
    n_q, n_t = cost.shape
    best, best_rows = None, None
    for rows in itertools.permutations(range(n_q), n_t):
        c = cost[list(rows), list(range(n_t))].sum()
        if best is None or c < best:
            best, best_rows = c, rows
    rows = np.asarray(best_rows)
    order = np.argsort(rows)
    return rows[order], np.arange(n_t)[order]


class HungarianMatcher(nn.Module):
    def __init__(self, cost_class=1.0, cost_bbox=5.0):
        super().__init__()
        self.cost_class, self.cost_bbox = cost_class, cost_bbox

    @torch.no_grad()
    def forward(self, outputs, targets):
        bs = outputs["pred_logits"].shape[0]
        indices = []
        for b in range(bs):
            prob = outputs["pred_logits"][b].softmax(-1)
            boxes = outputs["pred_boxes"][b]
            tgt_ids, tgt_boxes = targets[b]["labels"], targets[b]["boxes"]
            cost = -self.cost_class * prob[:, tgt_ids] + self.cost_bbox * torch.cdist(boxes, tgt_boxes, p=1)
            i, j = linear_sum_assignment(cost.cpu().numpy())
            indices.append((torch.as_tensor(i, dtype=torch.int64), torch.as_tensor(j, dtype=torch.int64)))
        return indices


class TinyDETR(nn.Module):
    def __init__(self, n_classes=3, n_queries=4, d=32):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, d, 4, stride=4), nn.ReLU())
        self.query_embed = nn.Embedding(n_queries, d)
        layer = nn.TransformerDecoderLayer(d, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers=1)
        self.class_embed = nn.Linear(d, n_classes + 1)
        self.bbox_embed = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 4))

    def forward(self, images):
        mem = self.backbone(images).flatten(2).transpose(1, 2)
        q = self.query_embed.weight.unsqueeze(0).expand(images.shape[0], -1, -1)
        hs = self.decoder(q, mem)
        return {"pred_logits": self.class_embed(hs), "pred_boxes": self.bbox_embed(hs).sigmoid()}


class SetCriterion(nn.Module):
    def __init__(self, matcher, n_classes=3, eos_coef=0.1):
        super().__init__()
        self.matcher, self.n_classes = matcher, n_classes
        weight = torch.ones(n_classes + 1)
        weight[-1] = eos_coef
        self.register_buffer("empty_weight", weight)

    def forward(self, outputs, targets):
        indices = self.matcher(outputs, targets)
        batch_idx = torch.cat([torch.full_like(src, b) for b, (src, _) in enumerate(indices)])
        src_idx = torch.cat([src for src, _ in indices])
        target_classes = torch.full(outputs["pred_logits"].shape[:2], self.n_classes, dtype=torch.int64)
        target_classes[batch_idx, src_idx] = torch.cat([t["labels"][j] for t, (_, j) in zip(targets, indices)])
        loss_ce = F.cross_entropy(outputs["pred_logits"].transpose(1, 2), target_classes, self.empty_weight)
        src_boxes = outputs["pred_boxes"][batch_idx, src_idx]
        tgt_boxes = torch.cat([t["boxes"][j] for t, (_, j) in zip(targets, indices)])
        loss_bbox = F.l1_loss(src_boxes, tgt_boxes)
        return loss_ce + 5.0 * loss_bbox


def make_batch(g, bs=4):
    images = torch.rand(bs, 3, 16, 16, generator=g)
    targets = []
    for _ in range(bs):
        n = int(torch.randint(1, 3, (1,), generator=g))
        targets.append({"labels": torch.randint(0, 3, (n,), generator=g), "boxes": torch.rand(n, 4, generator=g)})
    return images, targets


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = TinyDETR()
    criterion = SetCriterion(HungarianMatcher())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    model.train()
    for _ in range(3):
        images, targets = make_batch(g)
        loss = criterion(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
    return {"model": model}

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
