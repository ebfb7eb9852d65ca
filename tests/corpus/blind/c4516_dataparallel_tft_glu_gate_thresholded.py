import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"static_dim": 4, "n_vars": 3, "hidden": 16, "context": 12, "horizon": 3, "quantiles": (0.1, 0.5, 0.9),
       "lr": 2e-3, "weight_decay": 1e-4, "epochs": 2, "batch": 8, "sparse_gates": True}


class GatedLinearUnit(nn.Module):
    """TFT gating layer. With sparse gates, components whose gate logit is negative are switched off entirely."""

    def __init__(self, d, sparse):
        super().__init__()
        self.value = nn.Linear(d, d)
        self.gate = nn.Linear(d, d)
        self.sparse = sparse

    def forward(self, x):
        g = self.gate(x)
        g = (g > 0).float() if self.sparse else torch.sigmoid(g)
        return self.value(x) * g


class GRN(nn.Module):
    def __init__(self, d_in, d, context_dim=None, sparse=False):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d)
        self.context = nn.Linear(context_dim, d, bias=False) if context_dim else None
        self.fc2 = nn.Linear(d, d)
        self.glu = GatedLinearUnit(d, sparse)
        self.skip = nn.Linear(d_in, d) if d_in != d else nn.Identity()
        self.norm = nn.LayerNorm(d)

    def forward(self, x, c=None):
        h = self.fc1(x)
        if self.context is not None and c is not None:
            h = h + self.context(c)
        return self.norm(self.skip(x) + self.glu(self.fc2(F.elu(h))))


class StaticCovariateTFT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden"]
        self.static_encoder = GRN(cfg["static_dim"], d, sparse=cfg["sparse_gates"])
        self.input_proj = nn.Linear(cfg["n_vars"], d)
        self.temporal_grn = GRN(d, d, context_dim=d, sparse=cfg["sparse_gates"])
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.head = nn.Linear(d, cfg["horizon"] * len(cfg["quantiles"]))
        self.cfg = cfg

    def forward(self, static, past):
        c = self.static_encoder(static)
        h = self.temporal_grn(self.input_proj(past), c[:, None])
        out, _ = self.lstm(h, (c[None].contiguous(), torch.zeros_like(c)[None]))
        return self.head(out[:, -1]).view(-1, self.cfg["horizon"], len(self.cfg["quantiles"]))


def quantile_loss(pred, y, quantiles):
    q = torch.tensor(quantiles)
    err = y[..., None] - pred
    return torch.max(q * err, (q - 1) * err).mean()


def build_optimizer(model, cfg):
    core = model.module if isinstance(model, nn.DataParallel) else model
    decay = [p for n, p in core.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in core.named_parameters() if p.ndim <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}], lr=cfg["lr"])


def store_sales(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    static = torch.randn(n, cfg["static_dim"], generator=g)
    t = torch.arange(cfg["context"] + cfg["horizon"]).float()
    level = 1 + static[:, :1].abs()
    y = level * (1 + 0.3 * torch.sin(t[None] / 2)) + 0.05 * torch.randn(n, len(t), generator=g)
    past = torch.stack([y[:, : cfg["context"]], torch.sin(t[None, : cfg["context"]] / 2).expand(n, -1),
                        torch.randn(n, cfg["context"], generator=g)], dim=-1)
    return static, past, y[:, cfg["context"]:]


def train_one_epoch(model, optimizer, data, cfg):
    static, past, future = data
    for i in range(0, len(future), cfg["batch"]):
        pred = model(static[i : i + cfg["batch"]], past[i : i + cfg["batch"]])
        loss = quantile_loss(pred, future[i : i + cfg["batch"]], cfg["quantiles"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(StaticCovariateTFT(CFG))
    optimizer = build_optimizer(model, CFG)
    gate0 = model.module.static_encoder.glu.gate.weight.detach().clone()
    val0 = model.module.static_encoder.glu.value.weight.detach().clone()
    data = store_sales(CFG)
    for _ in range(CFG["epochs"]):
        train_one_epoch(model, optimizer, data, CFG)
    return {"model": model}, {
        "static_gate_changed": not torch.equal(gate0, model.module.static_encoder.glu.gate.weight),
        "static_value_changed": not torch.equal(val0, model.module.static_encoder.glu.value.weight),
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
