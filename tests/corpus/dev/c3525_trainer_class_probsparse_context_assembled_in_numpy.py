import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ProbSparseSelfAttention(nn.Module):
    """Informer-style attention: only the top-u "active" queries attend; lazy queries get mean(V)."""

    def __init__(self, d_model=16, factor=2):
        super().__init__()
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.factor = factor

    def forward(self, x):
        b, length, d = x.shape
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        scores = q @ k.transpose(1, 2) / math.sqrt(d)
        sparsity = scores.max(-1).values - scores.mean(-1)
        u = min(length, self.factor * int(math.ceil(math.log(length + 1))))
        top = sparsity.topk(u, dim=-1).indices
        rows = torch.arange(b)[:, None]
        active = torch.softmax(scores[rows, top], dim=-1) @ v
        context = v.mean(1, keepdim=True).expand(b, length, d).detach().numpy().copy()
        context[rows.numpy(), top.numpy()] = active.detach().numpy()
        return self.out_proj(torch.from_numpy(context))


class SparseForecaster(nn.Module):
    def __init__(self, n_features=4, d_model=16, horizon=3):
        super().__init__()
        self.embed = nn.Linear(n_features, d_model)
        self.attn = ProbSparseSelfAttention(d_model)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, horizon)

    def forward(self, x):
        h = self.embed(x)
        h = self.norm(h + self.attn(h))
        return self.head(h[:, -1])


class ForecastTrainer:
    def __init__(self, model, lr=3e-3):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.history = []

    def train_epoch(self, loader):
        self.model.train()
        for x, y in loader:
            self.optimizer.zero_grad()
            loss = F.mse_loss(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            self.history.append(loss.item())

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        return float(np.mean([F.mse_loss(self.model(x), y).item() for x, y in loader]))


def make_loader(n=32, length=24, bs=8):
    g = torch.Generator().manual_seed(12)
    x = torch.randn(n, length, 4, generator=g).cumsum(1) * 0.1
    y = x[:, -3:, 0]
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def main():
    torch.manual_seed(0)
    model = SparseForecaster()
    trainer = ForecastTrainer(model)
    loader = make_loader()
    q0 = model.attn.q_proj.weight.detach().clone()
    for _ in range(2):
        trainer.train_epoch(loader)
    trainer.validate(loader)
    return {"attn": model.attn, "head": model.head}, {
        "q_proj_changed": not torch.equal(q0, model.attn.q_proj.weight)}

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
