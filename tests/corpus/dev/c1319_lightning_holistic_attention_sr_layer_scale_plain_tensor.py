import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ResidualGroup(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class LayerAttention(nn.Module):
    """Holistic attention across the outputs of the residual groups (HAN-style LAM)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.ones(1, requires_grad=True)

    def forward(self, feats):
        b, n, c, h, w = feats.shape
        q = feats.view(b, n, -1)
        attn = torch.softmax(q @ q.transpose(1, 2) / q.size(-1) ** 0.5, dim=-1)
        out = (attn @ q).view(b, n, c, h, w)
        return (self.scale * out + feats).view(b, n * c, h, w)


class HANLite(pl.LightningModule):
    def __init__(self, ch=8, groups=3, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, ch, 3, padding=1)
        self.groups = nn.ModuleList(ResidualGroup(ch) for _ in range(groups))
        self.lam = LayerAttention()
        self.fuse = nn.Conv2d(ch * groups, ch, 1)
        self.upsample = nn.Sequential(nn.Conv2d(ch, 3 * scale ** 2, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, lr):
        x = self.head(lr)
        feats = []
        for g in self.groups:
            x = g(x)
            feats.append(x)
        return self.upsample(self.fuse(self.lam(torch.stack(feats, dim=1))) + x)

    def training_step(self, batch, batch_idx):
        lr, hr = batch
        return F.l1_loss(self(lr), hr)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def make_loader():
    g = torch.Generator().manual_seed(9)
    hr = torch.rand(16, 3, 8, 8, generator=g)
    lr = F.avg_pool2d(hr, 2)
    return DataLoader(TensorDataset(lr, hr), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = HANLite()
    scale0 = model.lam.scale.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, make_loader())
    facts = {"layer_scale_changed": not torch.equal(scale0, model.lam.scale),
             "layer_scale_in_parameters": any(p is model.lam.scale for p in model.parameters())}
    return {"model": model, "lam_scale": model.lam.scale}, facts

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
