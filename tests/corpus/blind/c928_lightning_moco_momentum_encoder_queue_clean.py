import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class MoCo(pl.LightningModule):
    def __init__(self, d_in=24, d_out=16, queue_size=64, momentum=0.99, temperature=0.2):
        super().__init__()
        self.query_encoder = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Linear(64, d_out))
        self.key_encoder = copy.deepcopy(self.query_encoder)
        self.key_encoder.requires_grad_(False)
        self.momentum, self.temperature = momentum, temperature
        self.register_buffer("queue", F.normalize(torch.randn(queue_size, d_out), dim=-1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def momentum_update(self):
        for q_param, k_param in zip(self.query_encoder.parameters(), self.key_encoder.parameters()):
            k_param.mul_(self.momentum).add_(q_param.detach(), alpha=1 - self.momentum)

    @torch.no_grad()
    def dequeue_and_enqueue(self, keys):
        n, ptr = keys.shape[0], int(self.queue_ptr)
        self.queue[ptr:ptr + n] = keys
        self.queue_ptr.fill_((ptr + n) % self.queue.shape[0])

    def training_step(self, batch, batch_idx):
        (x,) = batch
        q = F.normalize(self.query_encoder(x + 0.1 * torch.randn_like(x)), dim=-1)
        with torch.no_grad():
            self.momentum_update()
            k = F.normalize(self.key_encoder(x + 0.1 * torch.randn_like(x)), dim=-1)
        neg = q @ self.queue.clone().detach().t()
        logits = torch.cat([(q * k).sum(-1, keepdim=True), neg], dim=1) / self.temperature
        loss = F.cross_entropy(logits, torch.zeros(len(x), dtype=torch.long))
        self.dequeue_and_enqueue(k)
        self.log("info_nce", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.query_encoder.parameters(), lr=0.05, momentum=0.9)


def make_loader(n=96, d_in=24):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, d_in, generator=g)), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = MoCo()
    key_before = model.key_encoder[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    facts = {
        "key_encoder_changed": not torch.equal(key_before, model.key_encoder[0].weight),
        "queue_requires_grad": model.queue.requires_grad,
    }
    return {"model": model}, facts

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
