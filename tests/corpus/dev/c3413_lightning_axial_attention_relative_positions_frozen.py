import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AxialAttention(nn.Module):
    """Gated axial attention along one spatial axis with learned relative position encodings."""

    def __init__(self, dim=16, span=8, heads=2):
        super().__init__()
        self.heads, self.dh, self.span = heads, dim // heads, span
        self.qkv = nn.Conv1d(dim, 3 * dim, 1, bias=False)
        self.relative = nn.Parameter(torch.randn(self.dh, 2 * span - 1) * 0.1, requires_grad=False)
        self.gate = nn.Parameter(torch.tensor(0.1))
        idx = torch.arange(span)
        self.register_buffer("rel_index", (idx[None, :] - idx[:, None] + span - 1).flatten(), persistent=False)

    def forward(self, x):  # x: (B*W, C, H)
        n, c, h = x.shape
        q, k, v = self.qkv(x).view(n, 3, self.heads, self.dh, h).unbind(1)
        rel = self.relative.index_select(1, self.rel_index).view(self.dh, h, h)
        logits = torch.einsum("nhdi,nhdj->nhij", q, k) + self.gate * torch.einsum("nhdi,dij->nhij", q, rel)
        out = torch.einsum("nhij,nhdj->nhdi", logits.softmax(-1), v)
        return out.reshape(n, c, h)


class AxialBlock(nn.Module):
    def __init__(self, dim=16, span=8):
        super().__init__()
        self.h_attn = AxialAttention(dim, span)
        self.w_attn = AxialAttention(dim, span)
        self.norm = nn.BatchNorm2d(dim)

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.h_attn(x.permute(0, 3, 1, 2).reshape(b * w, c, h)).view(b, w, c, h).permute(0, 2, 3, 1)
        y = self.w_attn(y.permute(0, 2, 1, 3).reshape(b * h, c, w)).view(b, h, c, w).permute(0, 2, 1, 3)
        return F.relu(self.norm(x + y))


class MedTSegmenter(pl.LightningModule):
    def __init__(self, lr=2e-3):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1)
        self.block = AxialBlock()
        self.head = nn.Conv2d(16, 1, 1)
        self.lr = lr

    def forward(self, x):
        return self.head(self.block(self.stem(x)))

    def training_step(self, batch, batch_idx):
        img, mask = batch
        logits = self(img)
        bce = F.binary_cross_entropy_with_logits(logits, mask)
        prob = logits.sigmoid()
        dice = 1 - (2 * (prob * mask).sum() + 1) / (prob.sum() + mask.sum() + 1)
        self.log_dict({"bce": bce, "dice": dice})
        return bce + dice

    def configure_optimizers(self):
        opt = torch.optim.Adam(filter(lambda p: p.requires_grad, self.parameters()), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)}


def gland_data(n=12):
    g = torch.Generator().manual_seed(7)
    img = torch.randn(n, 1, 8, 8, generator=g)
    mask = (img.roll(1, dims=-1) > 0.3).float()
    return TensorDataset(img, mask)


def main():
    pl.seed_everything(0)
    model = MedTSegmenter()
    rel0 = model.block.h_attn.relative.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.fit(model, DataLoader(gland_data(), batch_size=4, shuffle=True))
    return {"model": model}, {"relative_positions_changed": not torch.equal(rel0, model.block.h_attn.relative)}

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
