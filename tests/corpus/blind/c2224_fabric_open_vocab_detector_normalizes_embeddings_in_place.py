import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class PatchVisionEncoder(nn.Module):
    def __init__(self, dim=32, patch=4):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)
        self.mix = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())

    def forward(self, img):
        return self.mix(self.proj(img).flatten(2).transpose(1, 2))


class ClassPredictionHead(nn.Module):
    def __init__(self, dim=32, query_dim=16):
        super().__init__()
        self.dense0 = nn.Linear(dim, query_dim)
        self.logit_shift = nn.Linear(dim, 1)
        self.logit_scale = nn.Linear(dim, 1)

    def forward(self, image_embeds, query_embeds):
        image_class_embeds = self.dense0(image_embeds)
        image_class_embeds /= torch.linalg.norm(image_class_embeds, dim=-1, keepdim=True) + 1e-6
        query_embeds /= torch.linalg.norm(query_embeds, dim=-1, keepdim=True) + 1e-6
        pred_logits = torch.einsum("bpd,bqd->bpq", image_class_embeds, query_embeds)
        return (pred_logits + self.logit_shift(image_embeds)) * (F.elu(self.logit_scale(image_embeds)) + 1)


class OpenVocabDetector(nn.Module):
    def __init__(self, vocab=30, query_dim=16):
        super().__init__()
        self.vision = PatchVisionEncoder()
        self.text_embed = nn.Embedding(vocab, query_dim)
        self.class_head = ClassPredictionHead(query_dim=query_dim)
        self.box_head = nn.Linear(32, 4)

    def forward(self, img, query_ids):
        feats = self.vision(img)
        queries = self.text_embed(query_ids)
        return self.class_head(feats, queries), self.box_head(feats).sigmoid()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    imgs = torch.randn(8, 3, 16, 16)
    queries = torch.randint(0, 30, (8, 3))
    targets = torch.randint(0, 3, (8, 16))
    boxes = torch.rand(8, 16, 4)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(imgs, queries, targets, boxes), batch_size=4))
    detector = OpenVocabDetector()
    optimizer = torch.optim.AdamW(detector.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(detector, optimizer)
    for img, q, tgt, box in loader:
        logits, pred_boxes = model(img, q)
        loss = F.cross_entropy(logits.reshape(-1, 3), tgt.reshape(-1)) + F.l1_loss(pred_boxes, box)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"model": detector}

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
