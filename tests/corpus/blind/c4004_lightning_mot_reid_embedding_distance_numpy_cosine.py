import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def embedding_distance(track_feats, det_feats):
    a = track_feats.detach().cpu().numpy()
    b = det_feats.detach().cpu().numpy()
    cost = 1.0 - (a @ b.T) / (np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :])
    return torch.as_tensor(np.maximum(0.0, cost), dtype=torch.float32)


class JDETracker(pl.LightningModule):
    def __init__(self, in_dim=10, emb_dim=8, margin=0.3, lr=3e-3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 24), nn.ReLU())
        self.box_head = nn.Linear(24, 4)
        self.reid_head = nn.Linear(24, emb_dim)
        self.margin, self.lr = margin, lr

    def forward(self, crops):
        h = self.backbone(crops)
        return self.box_head(h), F.normalize(self.reid_head(h), dim=1)

    def training_step(self, batch, batch_idx):
        prev_crops, cur_crops, boxes = batch
        _, prev_emb = self(prev_crops)
        box_pred, cur_emb = self(cur_crops)
        dist = embedding_distance(prev_emb, cur_emb)
        pos = dist.diagonal()
        neg = (dist + torch.eye(dist.size(0)) * 10).min(dim=1).values
        reid_loss = F.relu(pos - neg + self.margin).mean()
        loss = F.smooth_l1_loss(box_pred, boxes) + reid_loss
        self.log("train/reid", reid_loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def track_pairs(n=32):
    g = torch.Generator().manual_seed(0)
    ids = torch.randn(n, 10, generator=g)
    prev = ids + 0.1 * torch.randn(n, 10, generator=g)
    cur = ids + 0.1 * torch.randn(n, 10, generator=g)
    boxes = torch.rand(n, 4, generator=g)
    return DataLoader(TensorDataset(prev, cur, boxes), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = JDETracker()
    reid0 = model.reid_head.weight.detach().clone()
    box0 = model.box_head.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, track_pairs())
    return {"model": model}, {
        "reid_head_changed": not torch.equal(reid0, model.reid_head.weight),
        "box_head_changed": not torch.equal(box0, model.box_head.weight),
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
