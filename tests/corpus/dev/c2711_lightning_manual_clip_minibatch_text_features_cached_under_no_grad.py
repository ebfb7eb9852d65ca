import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ImageTower(nn.Module):
    def __init__(self, in_dim=24, dim=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 32), nn.GELU(), nn.Linear(32, dim))

    def forward(self, x):
        return F.normalize(self.mlp(x), dim=-1)


class TextTower(nn.Module):
    def __init__(self, vocab=50, dim=8):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, 16)
        self.proj = nn.Linear(16, dim)

    def forward(self, tokens):
        return F.normalize(self.proj(self.embed(tokens)), dim=-1)


def clip_loss(img_emb, txt_emb, logit_scale, offset):
    logits = logit_scale * img_emb @ txt_emb.t()
    target = torch.arange(img_emb.size(0)) + offset
    return F.cross_entropy(logits, target)


class MiniBatchCLIP(pl.LightningModule):
    """Large-batch contrastive loss computed in image mini-batches to save memory."""

    def __init__(self, minibatch=4, lr=1e-2):
        super().__init__()
        self.automatic_optimization = False
        self.image_tower = ImageTower()
        self.text_tower = TextTower()
        self.logit_scale = nn.Parameter(torch.tensor(5.0))
        self.minibatch, self.lr = minibatch, lr

    @torch.no_grad()
    def encode_all_texts(self, tokens):
        return self.text_tower(tokens)

    def training_step(self, batch, batch_idx):
        images, tokens = batch
        opt = self.optimizers()
        opt.zero_grad()
        txt_emb = self.encode_all_texts(tokens)
        n_chunks = (len(images) + self.minibatch - 1) // self.minibatch
        for start in range(0, len(images), self.minibatch):
            img_emb = self.image_tower(images[start:start + self.minibatch])
            loss = clip_loss(img_emb, txt_emb, self.logit_scale, start) / n_chunks
            self.manual_backward(loss)
        opt.step()

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    images = torch.randn(16, 24)
    tokens = torch.randint(0, 50, (16, 5))
    model = MiniBatchCLIP()
    before = model.text_tower.proj.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(images, tokens), batch_size=8))
    facts = {"text_tower_changed": not torch.equal(before, model.text_tower.proj.weight)}
    return {"image_tower": model.image_tower, "text_tower": model.text_tower}, facts

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
