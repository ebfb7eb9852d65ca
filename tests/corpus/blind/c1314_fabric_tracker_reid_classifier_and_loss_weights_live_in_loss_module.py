import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class JointDetEmbNet(nn.Module):
    def __init__(self, emb_dim=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.heatmap_head = nn.Linear(8, 1)
        self.id_head = nn.Linear(8, emb_dim)

    def forward(self, images):
        f = self.backbone(images)
        return self.heatmap_head(f).squeeze(-1), self.id_head(f)


class MotLoss(nn.Module):
    """Detection + re-ID loss with learned uncertainty weighting (FairMOT-style)."""

    def __init__(self, emb_dim=16, n_ids=10):
        super().__init__()
        self.classifier = nn.Linear(emb_dim, n_ids)
        self.emb_scale = math.sqrt(2) * math.log(n_ids - 1)
        self.s_det = nn.Parameter(-1.85 * torch.ones(1))
        self.s_id = nn.Parameter(-1.05 * torch.ones(1))

    def forward(self, det_logits, embeddings, det_target, id_target):
        det_loss = F.binary_cross_entropy_with_logits(det_logits, det_target)
        id_logits = self.classifier(self.emb_scale * F.normalize(embeddings, dim=-1))
        id_loss = F.cross_entropy(id_logits, id_target)
        return torch.exp(-self.s_det) * det_loss + torch.exp(-self.s_id) * id_loss + (self.s_det + self.s_id)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model, criterion = JointDetEmbNet(), MotLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(26)
    ds = TensorDataset(torch.randn(32, 3, 8, 8, generator=g), torch.randint(0, 2, (32,), generator=g).float(),
                       torch.randint(0, 10, (32,), generator=g))
    loader = fabric.setup_dataloaders(DataLoader(ds, batch_size=8, shuffle=True, generator=g))
    cls0, s_id0 = criterion.classifier.weight.detach().clone(), criterion.s_id.detach().clone()
    for epoch in range(2):
        for images, det_t, id_t in loader:
            optimizer.zero_grad()
            det_logits, emb = model(images)
            loss = criterion(det_logits, emb, det_t, id_t)
            fabric.backward(loss)
            optimizer.step()
    facts = {"reid_classifier_changed": not torch.equal(cls0, criterion.classifier.weight),
             "id_weight_changed": not torch.equal(s_id0, criterion.s_id)}
    return {"model": model.module, "criterion": criterion}, facts

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
