import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset


class DualEncoder(nn.Module):
    def __init__(self, img_dim=24, txt_vocab=40, dim=16):
        super().__init__()
        self.image_proj = nn.Sequential(nn.Linear(img_dim, 32), nn.GELU(), nn.Linear(32, dim))
        self.text_embed = nn.EmbeddingBag(txt_vocab, dim)
        self.logit_scale = nn.Parameter(torch.tensor(2.659))

    def forward(self, images, tokens):
        return F.normalize(self.image_proj(images), dim=-1), F.normalize(self.text_embed(tokens), dim=-1)


def gather_features(feats):
    world = dist.get_world_size()
    gathered = [torch.zeros_like(feats) for _ in range(world)]
    dist.all_gather(gathered, feats)
    return torch.cat(gathered, dim=0)


def clip_loss(image_feats, text_feats, logit_scale):
    all_img, all_txt = gather_features(image_feats), gather_features(text_feats)
    logits = logit_scale.exp() * all_img @ all_txt.t()
    labels = torch.arange(logits.size(0))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))


def main():
    torch.manual_seed(0)
    init_file = os.path.join(tempfile.mkdtemp(), "ddp_init")
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=0, world_size=1)
    try:
        model = DualEncoder()
        ddp_model = DDP(model)
        optimizer = torch.optim.AdamW(ddp_model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(17)
        loader = DataLoader(TensorDataset(torch.randn(32, 24, generator=g), torch.randint(0, 40, (32, 5), generator=g)),
                            batch_size=8, shuffle=True, generator=g)
        for images, tokens in loader:
            img_f, txt_f = ddp_model(images, tokens)
            loss = clip_loss(img_f, txt_f, model.logit_scale)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        dist.destroy_process_group()
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
