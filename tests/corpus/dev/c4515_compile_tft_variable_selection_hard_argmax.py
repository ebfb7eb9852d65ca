import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {
    "n_vars": 5, "hidden": 16, "context": 12, "horizon": 4, "quantiles": (0.1, 0.5, 0.9),
    "lr": 3e-3, "epochs": 2, "hard_selection": True,   # one variable per time step: easier to read in the dashboard
}


class GatedResidualNetwork(nn.Module):
    def __init__(self, d_in, d_hidden, d_out):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_out)
        self.gate = nn.Linear(d_out, 2 * d_out)
        self.skip = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
        self.norm = nn.LayerNorm(d_out)

    def forward(self, x):
        h = self.fc2(F.elu(self.fc1(x)))
        return self.norm(self.skip(x) + F.glu(self.gate(h), dim=-1))


class VariableSelectionNetwork(nn.Module):
    def __init__(self, n_vars, d, hard):
        super().__init__()
        self.n_vars, self.hard = n_vars, hard
        self.var_embed = nn.ModuleList([nn.Linear(1, d) for _ in range(n_vars)])
        self.var_grns = nn.ModuleList([GatedResidualNetwork(d, d, d) for _ in range(n_vars)])
        self.flat_grn = GatedResidualNetwork(n_vars * d, d, n_vars)

    def selection_weights(self, flat):
        logits = self.flat_grn(flat)
        if self.hard:
            return F.one_hot(logits.argmax(dim=-1), self.n_vars).to(logits.dtype)
        return torch.softmax(logits, dim=-1)

    def forward(self, x):  # x: (B, T, n_vars)
        embs = [emb(x[..., i : i + 1]) for i, emb in enumerate(self.var_embed)]
        weights = self.selection_weights(torch.cat(embs, dim=-1))
        processed = torch.stack([grn(e) for grn, e in zip(self.var_grns, embs)], dim=-1)
        return (processed * weights.unsqueeze(-2)).sum(-1), weights


class TemporalFusionLite(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden"]
        self.vsn = VariableSelectionNetwork(cfg["n_vars"], d, cfg["hard_selection"])
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.attn = nn.MultiheadAttention(d, num_heads=2, batch_first=True)
        self.post = GatedResidualNetwork(d, d, d)
        self.head = nn.Linear(d, cfg["horizon"] * len(cfg["quantiles"]))
        self.horizon, self.nq = cfg["horizon"], len(cfg["quantiles"])

    def forward(self, x):
        h, weights = self.vsn(x)
        h, _ = self.lstm(h)
        a, _ = self.attn(h, h, h, need_weights=False)
        h = self.post(h + a)
        return self.head(h[:, -1]).view(-1, self.horizon, self.nq), weights


def quantile_loss(pred, target, quantiles):
    losses = []
    for i, q in enumerate(quantiles):
        err = target - pred[..., i]
        losses.append(torch.max(q * err, (q - 1) * err).mean())
    return sum(losses)


def make_series(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(cfg["context"] + cfg["horizon"]).float()
    base = torch.sin(t / 3)[None] * torch.rand(n, 1, generator=g)
    covs = base[..., None] + 0.1 * torch.randn(n, len(t), cfg["n_vars"], generator=g)
    return covs[:, : cfg["context"]], base[:, cfg["context"]:]


def train(model, compiled, cfg):
    x, y = make_series(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(x), 16):
            pred, _ = compiled(x[i : i + 16])
            loss = quantile_loss(pred, y[i : i + 16], cfg["quantiles"])
            opt.zero_grad()
            loss.backward()
            opt.step()


def main():
    torch.manual_seed(0)
    model = TemporalFusionLite(CFG)
    compiled = torch.compile(model, backend="eager")
    flat0 = model.vsn.flat_grn.fc1.weight.detach().clone()
    lstm0 = model.lstm.weight_ih_l0.detach().clone()
    train(model, compiled, CFG)
    return {"model": model}, {
        "selection_grn_changed": not torch.equal(flat0, model.vsn.flat_grn.fc1.weight),
        "lstm_changed": not torch.equal(lstm0, model.lstm.weight_ih_l0),
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
