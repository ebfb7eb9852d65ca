import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Embedder(nn.Module):
    def __init__(self, in_dim=12, dim=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.neck = nn.Linear(32, dim)

    def forward(self, x):
        return F.normalize(self.neck(self.backbone(x)), dim=-1)


class CrossBatchMemory(nn.Module):
    """FIFO of past embeddings and labels (XBM): extra negatives for the contrastive loss."""

    def __init__(self, size=32, dim=8):
        super().__init__()
        self.register_buffer("feats", F.normalize(torch.randn(size, dim), dim=-1))
        self.register_buffer("labels", torch.full((size,), -1, dtype=torch.long))
        self.ptr = 0

    def enqueue(self, feats, labels):
        n = feats.shape[0]
        idx = (torch.arange(n) + self.ptr) % self.feats.shape[0]
        self.feats[idx] = feats.detach()
        self.labels[idx] = labels
        self.ptr = int((self.ptr + n) % self.feats.shape[0])


def contrastive_loss(q, q_labels, keys, key_labels, margin=0.5):
    sim = q @ keys.t()
    pos = (q_labels[:, None] == key_labels[None, :]).float()
    neg = 1.0 - pos
    pos_loss = ((1.0 - sim) * pos).sum() / pos.sum().clamp(min=1)
    neg_loss = (F.relu(sim - margin) * neg).sum() / neg.sum().clamp(min=1)
    return pos_loss + neg_loss


def recall_at_1(emb, y):
    sim = emb @ emb.t()
    sim.fill_diagonal_(-2.0)
    return (y[sim.argmax(dim=1)] == y).float().mean()


class XbmModule(pl.LightningModule):
    def __init__(self, lr=1e-2, xbm_weight=1.0):
        super().__init__()
        self.model = Embedder()
        self.memory = CrossBatchMemory()
        self.lr, self.xbm_weight = lr, xbm_weight

    def training_step(self, batch, batch_idx):
        x, y = batch
        emb = self.model(x)
        in_batch = contrastive_loss(emb, y, emb, y)
        cross_batch = contrastive_loss(emb, y, self.memory.feats, self.memory.labels)
        self.memory.enqueue(emb, y)
        loss = in_batch + self.xbm_weight * cross_batch
        self.log_dict({"loss/in_batch": in_batch, "loss/xbm": cross_batch})
        return {"loss": loss}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/recall@1", recall_at_1(self.model(x), y))

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=0.9)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


def make_loader(n=48, classes=4):
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(classes, 12, generator=g)
    y = torch.arange(n) % classes
    x = centers[y] + 0.3 * torch.randn(n, 12, generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = XbmModule()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False)
    loader = make_loader()
    trainer.fit(module, loader, loader)
    return {"model": module.model}

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
