import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class MMoE(nn.Module):
    def __init__(self, n_feat=12, n_experts=3, expert_dim=16, n_tasks=2):
        super().__init__()
        self.experts = nn.ModuleList([nn.Sequential(nn.Linear(n_feat, expert_dim), nn.ReLU()) for _ in range(n_experts)])
        self.gates = nn.ModuleList([nn.Linear(n_feat, n_experts) for _ in range(n_tasks)])
        self.towers = nn.ModuleList([nn.Sequential(nn.Linear(expert_dim, 8), nn.ReLU(), nn.Linear(8, 1)) for _ in range(n_tasks)])

    def forward(self, x):
        e = torch.stack([expert(x) for expert in self.experts], dim=1)
        outs = []
        for gate, tower in zip(self.gates, self.towers):
            w = torch.softmax(gate(x), dim=-1).unsqueeze(-1)
            outs.append(tower((w * e).sum(1)).squeeze(-1))
        return outs


class DynamicWeightAverage:
    """DWA task weighting: tasks whose loss falls slowly get more weight."""

    def __init__(self, n_tasks, temperature=2.0):
        self.n, self.T = n_tasks, temperature
        self.prev, self.prev2 = None, None

    def __call__(self, losses):
        if self.prev is None or self.prev2 is None:
            weights = torch.ones(self.n)
        else:
            ratio = torch.stack(self.prev) / torch.stack(self.prev2)
            weights = self.n * torch.softmax(ratio / self.T, dim=0)
        self.prev2, self.prev = self.prev, losses
        return weights


def train(accelerator, model, optimizer, loader, weighting, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, click, convert in loader:
            ctr_logit, cvr_logit = model(x)
            losses = [F.binary_cross_entropy_with_logits(ctr_logit, click),
                      F.binary_cross_entropy_with_logits(cvr_logit, convert)]
            w = weighting(losses)
            loss = sum(wi * li for wi, li in zip(w, losses))
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = MMoE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 12, generator=g)
    click = (x[:, 0] > 0).float()
    convert = click * (x[:, 1] > 0.5).float()
    loader = DataLoader(TensorDataset(x, click, convert), batch_size=8, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    train(accelerator, model, optimizer, loader, DynamicWeightAverage(2))
    return {"model": model}

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
