import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def l2_normalize(x, eps=1e-8):
    """Project embeddings onto the unit sphere for the cosine-margin head."""
    return x.data / x.data.norm(dim=1, keepdim=True).clamp_min(eps)


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim=20, emb_dim=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, emb_dim))

    def forward(self, x):
        return self.body(x)


class CosineMarginHead(nn.Module):
    def __init__(self, emb_dim=16, n_classes=5, scale=16.0, margin=0.2):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.1)
        self.scale, self.margin = scale, margin

    def forward(self, emb, labels):
        cos = l2_normalize(emb) @ F.normalize(self.weight, dim=1).t()
        onehot = F.one_hot(labels, cos.size(1)).to(cos.dtype)
        return self.scale * (cos - self.margin * onehot)


class FaceEmbedder(pl.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.backbone = EmbeddingNet()
        self.head = CosineMarginHead()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.head(self.backbone(x), y)
        loss = F.cross_entropy(logits, y)
        self.log("train/cosface", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        return [opt], [sched]


def main():
    pl.seed_everything(3)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(60, 20, generator=g)
    y = torch.randint(0, 5, (60,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=g)
    model = FaceEmbedder()
    w0 = model.backbone.body[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"backbone_changed": not torch.equal(w0, model.backbone.body[0].weight)}

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
