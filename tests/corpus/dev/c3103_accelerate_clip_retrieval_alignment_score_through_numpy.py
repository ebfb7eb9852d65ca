import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def cosine_matrix(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a @ b.T).astype(np.float32)


class DualEncoder(nn.Module):
    def __init__(self, img_dim=24, vocab=50, dim=16, n_cls=4):
        super().__init__()
        self.image_encoder = nn.Sequential(nn.Linear(img_dim, 32), nn.GELU(), nn.Linear(32, dim))
        self.text_encoder = nn.EmbeddingBag(vocab, dim)
        self.image_proj = nn.Linear(dim, dim)
        self.text_proj = nn.Linear(dim, dim)
        self.cls_head = nn.Linear(dim, n_cls)
        self.logit_scale = nn.Parameter(torch.tensor(2.0))

    def forward(self, img, tokens):
        img_emb = self.image_proj(self.image_encoder(img))
        txt_emb = self.text_proj(self.text_encoder(tokens))
        txt_feat = self.text_encoder(tokens)
        return img_emb, txt_emb, txt_feat


def alignment_logits(img_emb, txt_emb, scale):
    img_np = img_emb.detach().cpu().numpy()
    txt_np = txt_emb.detach().cpu().numpy()
    sim = torch.from_numpy(cosine_matrix(img_np, txt_np))
    return sim * scale.exp()


def train(model, loader, optimizer, scheduler, accelerator, epochs=2):
    model.train()
    for _ in range(epochs):
        for img, tokens, label in loader:
            img_emb, txt_emb, txt_feat = model(img, tokens)
            logits = alignment_logits(img_emb, txt_emb, model.logit_scale)
            targets = torch.arange(img.shape[0])
            clip_loss = 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets))
            sup_loss = F.cross_entropy(model.cls_head(img_emb), label) + F.cross_entropy(model.cls_head(txt_feat), label)
            loss = clip_loss + sup_loss
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(32, 24, generator=g), torch.randint(0, 50, (32, 6), generator=g),
                       torch.randint(0, 4, (32,), generator=g))
    model = DualEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    tp0 = model.text_proj.weight.detach().clone()
    train(model, loader, optimizer, scheduler, accelerator)
    return {"model": model}, {"text_proj_changed": not torch.equal(tp0, model.text_proj.weight)}

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
