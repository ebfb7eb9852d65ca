import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class MLSTMHead(nn.Module):
    """One matrix-memory head with exponential input gating (parallel form)."""

    def __init__(self, dim, seq_len):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.register_buffer("causal_mask", torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool)))
        self.register_buffer("positions", torch.arange(seq_len, dtype=torch.float32))
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, x, log_forget, log_input):
        t = x.shape[1]
        decay = (log_forget[:, :, None] - log_forget[:, None, :]) + log_input[:, None, :]
        decay = decay.masked_fill(~self.causal_mask[:t, :t], float("-inf"))
        weights = torch.softmax(decay + (self.q(x) @ self.k(x).transpose(1, 2)) * self.scale, dim=-1)
        return weights @ self.v(x)


class XLSTMBlock(nn.Module):
    def __init__(self, dim=16, n_heads=2, seq_len=8):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.heads = nn.ModuleList(MLSTMHead(dim, seq_len) for _ in range(n_heads))
        self.gate_bias = nn.ParameterList(nn.Parameter(torch.full((1,), 3.0)) for _ in range(n_heads))
        self.gates = nn.Linear(dim, 2 * n_heads)
        self.out = nn.Linear(n_heads * dim, dim)
        self.state_cache = {}

    def forward(self, x):
        h = self.norm(x)
        f_pre, i_pre = self.gates(h).chunk(2, dim=-1)
        outs = []
        for n, head in enumerate(self.heads):
            log_f = torch.cumsum(F.logsigmoid(f_pre[..., n] + self.gate_bias[n]), dim=1)
            outs.append(head(h, log_f, i_pre[..., n]))
        self.state_cache["last_hidden"] = outs[-1][:, -1].detach()
        return x + self.out(torch.cat(outs, dim=-1))


class XLSTMRegressor(L.LightningModule):
    def __init__(self, dim=16, lr=2e-3):
        super().__init__()
        self.inp = nn.Linear(4, dim)
        self.blocks = nn.ModuleList([XLSTMBlock(dim), XLSTMBlock(dim)])
        self.head = nn.Linear(dim, 1)
        self.lr = lr

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h[:, -1])

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.smooth_l1_loss(self(x).squeeze(-1), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def main():
    L.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 8, 4, generator=g)
    module = XLSTMRegressor()
    bias_before = module.blocks[0].gate_bias[0].detach().clone()
    L.Trainer(max_epochs=1, logger=False).fit(module, DataLoader(TensorDataset(x, x.sum((1, 2))), batch_size=4))
    facts = {"gate_bias_changed": not torch.equal(bias_before, module.blocks[0].gate_bias[0]),
             "gate_bias_in_optimizer": any(p is module.blocks[0].gate_bias[0]
                                           for grp in module.optimizers().param_groups for p in grp["params"])}
    return {"blocks": module.blocks}, facts

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
