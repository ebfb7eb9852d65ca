import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.mix = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        x = x + self.mix(x.mean(dim=1, keepdim=True))
        return x + self.mlp(self.norm(x))


class Encoder(nn.Module):
    def __init__(self, in_dim=6, d=16, depth=3):
        super().__init__()
        self.embed = nn.Linear(in_dim, d)
        self.mask_emb = nn.Parameter(torch.zeros(d))
        self.blocks = nn.ModuleList([Block(d) for _ in range(depth)])

    def forward(self, x, mask=None):
        h = self.embed(x)
        if mask is not None:
            h = torch.where(mask.unsqueeze(-1), self.mask_emb.expand_as(h), h)
        states = []
        for blk in self.blocks:
            h = blk(h)
            states.append(h)
        return h, states


class Data2Vec(nn.Module):
    def __init__(self, top_k=2, tau=0.99):
        super().__init__()
        self.student = Encoder()
        self.teacher = copy.deepcopy(self.student).requires_grad_(False)
        self.head = nn.Linear(16, 16)
        self.top_k, self.tau = top_k, tau

    @torch.no_grad()
    def targets(self, x):
        _, states = self.teacher(x)
        y = sum(F.layer_norm(s, s.shape[-1:]) for s in states[-self.top_k:]) / self.top_k
        return y

    def forward(self, x, mask):
        h, _ = self.student(x, mask)
        return self.head(h[mask]), self.targets(x)[mask]

    @torch.no_grad()
    def ema_step(self):
        for p_t, p_s in zip(self.teacher.parameters(), self.student.parameters()):
            p_t.mul_(self.tau).add_(p_s.detach(), alpha=1 - self.tau)


def train_one_epoch(model, loader, optimizer, accelerator, mask_prob=0.5):
    for (x,) in loader:
        mask = torch.rand(x.shape[:2]) < mask_prob
        mask[:, 0] = True
        pred, target = model(x, mask)
        loss = F.smooth_l1_loss(pred, target)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        accelerator.unwrap_model(model).ema_step()
    return loss.item()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = Data2Vec()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 10, 6, generator=g)), batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    s0 = model.student.blocks[0].mlp[0].weight.detach().clone()
    t0 = model.teacher.blocks[0].mlp[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"student": model.student, "head": model.head}, {
        "student_changed": not torch.equal(s0, model.student.blocks[0].mlp[0].weight),
        "teacher_tracked": not torch.equal(t0, model.teacher.blocks[0].mlp[0].weight),
        "teacher_has_no_grad": all(p.grad is None for p in model.teacher.parameters()),
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
