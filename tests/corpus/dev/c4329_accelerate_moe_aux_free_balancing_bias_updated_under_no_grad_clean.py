import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SwiGLUExpert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w_gate = nn.Linear(dim, hidden, bias=False)
        self.w_up = nn.Linear(dim, hidden, bias=False)
        self.w_down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))


class AuxFreeRouter(nn.Module):
    """Sigmoid scores; a non-learned per-expert bias only steers which experts are selected."""

    def __init__(self, dim, n_experts, k, bias_rate):
        super().__init__()
        self.gate = nn.Linear(dim, n_experts, bias=False)
        self.register_buffer("expert_bias", torch.zeros(n_experts))
        self.k, self.bias_rate = k, bias_rate
        self.last_load = None

    def forward(self, tokens):
        scores = torch.sigmoid(self.gate(tokens))
        _, idx = (scores.detach() + self.expert_bias).topk(self.k, dim=-1)
        weights = scores.gather(-1, idx)
        weights = weights / weights.sum(-1, keepdim=True)
        self.last_load = torch.bincount(idx.flatten(), minlength=scores.shape[-1]).float()
        return weights, idx

    @torch.no_grad()
    def update_bias(self):
        load = self.last_load
        self.expert_bias.add_(self.bias_rate * torch.sign(load.mean() - load))


class MoELayer(nn.Module):
    def __init__(self, dim, hidden, n_experts, k, bias_rate):
        super().__init__()
        self.router = AuxFreeRouter(dim, n_experts, k, bias_rate)
        self.experts = nn.ModuleList([SwiGLUExpert(dim, hidden) for _ in range(n_experts)])

    def forward(self, x):
        tokens = x.reshape(-1, x.shape[-1])
        weights, idx = self.router(tokens)
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            sel = idx == e
            rows = sel.any(-1).nonzero(as_tuple=True)[0]
            if rows.numel():
                w = (weights * sel).sum(-1, keepdim=True)[rows]
                out = out.index_add(0, rows, w * expert(tokens[rows]))
        return x + out.view_as(x)


class MoERegressor(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.inp = nn.Linear(cfg["in_dim"], cfg["dim"])
        self.moe = MoELayer(cfg["dim"], cfg["hidden"], cfg["n_experts"], cfg["k"], cfg["bias_rate"])
        self.out = nn.Linear(cfg["dim"], 1)

    def forward(self, x):
        return self.out(self.moe(self.inp(x))).squeeze(-1)


def train_one_epoch(model, loader, optimizer, accelerator, log):
    for x, y in loader:
        with accelerator.accumulate(model):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
        accelerator.unwrap_model(model).moe.router.update_bias()
        log.append(loss.item())


def main():
    set_seed(0)
    cfg = {"in_dim": 6, "dim": 16, "hidden": 32, "n_experts": 4, "k": 2, "bias_rate": 1e-2, "lr": 3e-3}
    accelerator = Accelerator(gradient_accumulation_steps=1)
    model = MoERegressor(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, cfg["in_dim"], generator=g)
    y = torch.sin(x[:, 0]) + x[:, 1] * x[:, 2]
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    gate0 = model.moe.router.gate.weight.detach().clone()
    log = []
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator, log)
    return {"model": model}, {
        "router_gate_changed": not torch.equal(gate0, model.moe.router.gate.weight),
        "balancing_bias_moved": bool(model.moe.router.expert_bias.abs().sum() > 0),
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
