import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GatedResidual(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.gate = nn.Linear(d, 2 * d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        h = F.elu(self.fc(x))
        return self.norm(x + F.glu(self.gate(h), dim=-1))


class TemporalFusionLite(nn.Module):
    """Variable selection -> LSTM history encoder -> attention decoder -> quantile heads."""

    def __init__(self, n_vars, d=16, horizon=4, quantiles=(0.1, 0.5, 0.9)):
        super().__init__()
        self.var_proj = nn.Linear(n_vars, d)
        self.select = GatedResidual(d)
        self.encoder = nn.LSTM(d, d, batch_first=True)
        self.query = nn.Parameter(torch.randn(horizon, d) * 0.1)
        self.attn = nn.MultiheadAttention(d, 2, batch_first=True)
        self.post = GatedResidual(d)
        self.heads = nn.Linear(d, len(quantiles))
        self.register_buffer("quantiles", torch.tensor(quantiles))

    def forward(self, history):
        memory = encode_history(self, history)
        q = self.query.unsqueeze(0).expand(history.size(0), -1, -1)
        dec, _ = self.attn(q, memory, memory, need_weights=False)
        return self.heads(self.post(dec))  # (B, H, Q)


@torch.no_grad()
def encode_history(model, history):
    """Shared by training and the validation/backtest loop (which runs thousands of windows)."""
    x = model.select(model.var_proj(history))
    memory, _ = model.encoder(x)
    return memory


def quantile_loss(pred, target, quantiles):
    err = target.unsqueeze(-1) - pred
    return torch.max(quantiles * err, (quantiles - 1) * err).mean()


def train_one_epoch(model, compiled, loader, optimizer):
    model.train()
    for history, target in loader:
        loss = quantile_loss(compiled(history), target, model.quantiles)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def make_loader(n=48, lookback=12, horizon=4, n_vars=3):
    g = torch.Generator().manual_seed(0)
    series = torch.cumsum(torch.randn(n, lookback + horizon, n_vars, generator=g), dim=1)
    return DataLoader(TensorDataset(series[:, :lookback], series[:, lookback:, 0]), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = TemporalFusionLite(n_vars=3)
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    lstm0 = model.encoder.weight_ih_l0.detach().clone()
    head0 = model.heads.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, compiled, make_loader(), optimizer)
    return {"model": model}, {
        "encoder_changed": not torch.equal(lstm0, model.encoder.weight_ih_l0),
        "heads_changed": not torch.equal(head0, model.heads.weight),
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
