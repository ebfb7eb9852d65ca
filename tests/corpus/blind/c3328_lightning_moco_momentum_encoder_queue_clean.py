import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, width=16, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU())
        self.mlp = nn.Sequential(nn.Linear(width, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x):
        return F.normalize(self.mlp(self.conv(x).mean((2, 3))), dim=-1)


class MoCo(pl.LightningModule):
    def __init__(self, dim=16, queue_size=64, m=0.99, t=0.2, lr=0.03):
        super().__init__()
        self.encoder_q = Encoder(dim=dim)
        self.encoder_k = copy.deepcopy(self.encoder_q)
        for p in self.encoder_k.parameters():
            p.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(queue_size, dim), dim=-1))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))
        self.m, self.t, self.lr = m, t, lr

    @torch.no_grad()
    def momentum_update(self):
        for pk, pq in zip(self.encoder_k.parameters(), self.encoder_q.parameters()):
            pk.data.mul_(self.m).add_(pq.data, alpha=1 - self.m)

    @torch.no_grad()
    def enqueue(self, keys):
        n, i = keys.size(0), int(self.ptr)
        self.queue[i:i + n] = keys
        self.ptr.fill_((i + n) % self.queue.size(0))

    @staticmethod
    def two_views(x):
        return x + 0.1 * torch.randn_like(x), x.flip(-1) + 0.1 * torch.randn_like(x)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        xq, xk = self.two_views(x)
        q = self.encoder_q(xq)
        with torch.no_grad():
            self.momentum_update()
            k = self.encoder_k(xk)
        l_pos = (q * k).sum(-1, keepdim=True)
        l_neg = q @ self.queue.clone().detach().t()
        logits = torch.cat([l_pos, l_neg], dim=1) / self.t
        loss = F.cross_entropy(logits, torch.zeros(x.size(0), dtype=torch.long))
        self.enqueue(k)
        self.log("moco_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.encoder_q.parameters(), lr=self.lr, momentum=0.9, weight_decay=1e-4)


def unlabeled(n=32):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.rand(n, 3, 8, 8, generator=g)), batch_size=8, shuffle=True)


def main():
    pl.seed_everything(0)
    model = MoCo()
    k0 = model.encoder_k.mlp[2].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, unlabeled())
    facts = {"key_encoder_tracked": not torch.equal(k0, model.encoder_k.mlp[2].weight),
             "queue_entries_written": int(model.ptr)}
    return {"encoder_q": model.encoder_q}, facts

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
