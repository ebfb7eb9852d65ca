import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class PCGrad:
    """Projecting conflicting gradients (Yu et al. 2020) around a regular optimizer."""

    def __init__(self, optimizer, accelerator):
        self.optimizer, self.accelerator = optimizer, accelerator

    @property
    def params(self):
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    def zero_grad(self):
        self.optimizer.zero_grad(set_to_none=True)

    def _task_grads(self, losses):
        grads, shapes = [], []
        for i, loss in enumerate(losses):
            self.zero_grad()
            self.accelerator.backward(loss, retain_graph=i < len(losses) - 1)
            flat, has = [], []
            for p in self.params:
                g = p.grad if p.grad is not None else torch.zeros_like(p)
                flat.append(g.flatten().clone())
                has.append(torch.full_like(g.flatten(), float(p.grad is not None)))
            grads.append(torch.cat(flat))
            shapes.append(torch.cat(has))
        return grads, shapes

    @torch.no_grad()
    def _project(self, grads, has):
        projected = [g.clone() for g in grads]
        for g_i in projected:
            others = grads[:]
            random.shuffle(others)
            for g_j in others:
                dot = torch.dot(g_i, g_j)
                if dot < 0:
                    g_i -= dot * g_j / (g_j.norm() ** 2 + 1e-12)
        shared = torch.stack(has).prod(0).bool()
        merged = torch.stack(projected).sum(0)
        merged[shared] = torch.stack([g[shared] for g in projected]).mean(0)
        return merged

    def step(self, losses):
        grads, has = self._task_grads(losses)
        merged = self._project(grads, has)
        offset = 0
        for p in self.params:
            n = p.numel()
            p.grad = merged[offset:offset + n].view_as(p).clone()
            offset += n
        self.optimizer.step()


class HydraNet(nn.Module):
    def __init__(self, d=10, h=32):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.seg_head = nn.Linear(h, 4)
        self.depth_head = nn.Linear(h, 1)

    def forward(self, x):
        z = self.shared(x)
        return self.seg_head(z), self.depth_head(z).squeeze(-1)


def cityscapes_like(n=32, d=10):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    return DataLoader(TensorDataset(x, x[:, :4].argmax(-1), -x[:, 0] + x[:, 5]), batch_size=8, shuffle=True,
                      generator=g)


def train_one_epoch(model, pcgrad, loader):
    model.train()
    for x, seg, depth in loader:
        seg_logits, depth_pred = model(x)
        losses = [F.cross_entropy(seg_logits, seg), F.smooth_l1_loss(depth_pred, depth)]
        pcgrad.step(losses)


def main():
    set_seed(0)
    random.seed(0)
    accelerator = Accelerator()
    model = HydraNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, cityscapes_like())
    pcgrad = PCGrad(optimizer, accelerator)
    shared0 = model.shared[0].weight.detach().clone()
    for epoch in range(2):
        train_one_epoch(model, pcgrad, loader)
    return {"model": model}, {
        "shared_changed": not torch.equal(shared0, model.shared[0].weight),
    }

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
