from itertools import permutations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class QueryDecoder(nn.Module):
    """DETR-style: a fixed set of learned queries cross-attends to encoded points."""

    def __init__(self, in_dim=5, dim=16, num_queries=3, num_classes=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.queries = nn.Parameter(torch.randn(num_queries, dim))
        self.cross_attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.box_head = nn.Linear(dim, 2)
        self.class_head = nn.Linear(dim, num_classes)

    def forward(self, points):
        memory = self.encoder(points)
        q = self.queries.unsqueeze(0).expand(points.shape[0], -1, -1)
        h, _ = self.cross_attn(q, memory, memory)
        return self.box_head(h).sigmoid(), self.class_head(h)


@torch.no_grad()
def hungarian_match(pred_boxes, pred_logits, tgt_boxes, tgt_labels):
    """Best assignment per image on an L1 + class cost (3 queries: brute force over permutations)."""
    prob = pred_logits.softmax(-1)
    cost = torch.cdist(pred_boxes, tgt_boxes, p=1) - prob.gather(2, tgt_labels[:, None, :].expand(-1, prob.shape[1], -1))
    cost = cost.cpu().numpy()
    indices = []
    for c in cost:
        rows = np.arange(c.shape[0])
        best = min(permutations(range(c.shape[1])), key=lambda perm: c[rows, list(perm)].sum())
        indices.append(torch.as_tensor(best, dtype=torch.long))
    return torch.stack(indices)


def set_criterion(pred_boxes, pred_logits, tgt_boxes, tgt_labels):
    col = hungarian_match(pred_boxes, pred_logits, tgt_boxes, tgt_labels)
    matched_boxes = torch.gather(tgt_boxes, 1, col[..., None].expand(-1, -1, 2))
    matched_labels = torch.gather(tgt_labels, 1, col)
    loss_box = F.l1_loss(pred_boxes, matched_boxes)
    loss_cls = F.cross_entropy(pred_logits.flatten(0, 1), matched_labels.flatten())
    return loss_box * 5.0 + loss_cls


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = QueryDecoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    g = torch.Generator().manual_seed(0)
    points = torch.randn(8, 10, 5, generator=g)
    boxes = torch.rand(8, 3, 2, generator=g)
    labels = torch.randint(0, 4, (8, 3), generator=g)
    loader = DataLoader(TensorDataset(points, boxes, labels), batch_size=4)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    queries_before = model.queries.detach().clone()
    model.train()
    for x, b, lbl in loader:
        optimizer.zero_grad()
        pred_boxes, pred_logits = model(x)
        loss = set_criterion(pred_boxes, pred_logits, b, lbl)
        accelerator.backward(loss)
        optimizer.step()
    return {"model": model}, {"queries_changed": not torch.equal(queries_before, model.queries)}

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
