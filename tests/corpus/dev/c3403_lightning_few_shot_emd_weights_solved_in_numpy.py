import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

WAY, SHOT, QUERY, NODES, DIM = 3, 1, 2, 4, 16


class PatchEncoder(nn.Module):
    def __init__(self, dim=DIM):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, dim, 3, padding=1))
        self.pool = nn.AdaptiveAvgPool2d(2)

    def forward(self, x):
        return self.pool(self.conv(x)).flatten(2).transpose(1, 2)  # (B, NODES, DIM)


class CrossReferenceWeights(nn.Module):
    """Node weights from the other image's mean feature (the EMD marginals)."""

    def __init__(self, dim=DIM):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, a, b):
        return F.relu((a * self.proj(b.mean(1, keepdim=True))).sum(-1)) + 1e-3


def soft_transport_plan(cost, w1, w2, iters=20, eps=0.1):
    """Sinkhorn in numpy (stand-in for the OpenCV EMD solver)."""
    c = cost.detach().cpu().numpy()
    r = w1.detach().cpu().numpy()
    s = w2.detach().cpu().numpy()
    r, s = r / r.sum(), s / s.sum()
    k = np.exp(-c / eps)
    u = np.ones_like(r)
    for _ in range(iters):
        v = s / (k.T @ u + 1e-9)
        u = r / (k @ v + 1e-9)
    return torch.from_numpy((u[:, None] * k * v[None, :]).astype(np.float32))


class EpisodeDataset(Dataset):
    def __init__(self, n=6):
        self.g = torch.Generator().manual_seed(4)
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        protos = torch.randn(WAY, 1, 8, 8, generator=self.g)
        support = protos + 0.1 * torch.randn(WAY, 1, 8, 8, generator=self.g)
        query = protos.repeat(QUERY, 1, 1, 1) + 0.3 * torch.randn(WAY * QUERY, 1, 8, 8, generator=self.g)
        labels = torch.arange(WAY).repeat(QUERY)
        return support, query, labels


class DeepEMDLite(pl.LightningModule):
    def __init__(self, temperature=12.5, lr=1e-2):
        super().__init__()
        self.encoder = PatchEncoder()
        self.weights = CrossReferenceWeights()
        self.temperature, self.lr = temperature, lr

    def similarity(self, q, s):
        q_n, s_n = F.normalize(q, dim=-1), F.normalize(s, dim=-1)
        logits = []
        for i in range(q.size(0)):
            row = []
            for j in range(s.size(0)):
                sim = q_n[i] @ s_n[j].T
                w1, w2 = self.weights(q[i:i + 1], s[j:j + 1])[0], self.weights(s[j:j + 1], q[i:i + 1])[0]
                flow = soft_transport_plan(1 - sim, w1, w2)
                row.append((sim * flow).sum())
            logits.append(torch.stack(row))
        return torch.stack(logits) * self.temperature / NODES

    def training_step(self, batch, batch_idx):
        support, query, labels = [t[0] for t in batch]
        logits = self.similarity(self.encoder(query), self.encoder(support))
        loss = F.cross_entropy(logits, labels)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


def main():
    pl.seed_everything(0)
    model = DeepEMDLite()
    w0 = model.weights.proj.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(EpisodeDataset(), batch_size=1))
    return {"model": model}, {"node_weight_net_changed": not torch.equal(w0, model.weights.proj.weight)}

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
