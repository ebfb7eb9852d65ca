import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"enc_in": 3, "d_model": 16, "heads": 2, "seq_len": 24, "pred_len": 6, "factor": 2, "layers": 2,
       "lr": 1e-3, "epochs": 2, "batch": 8}


class ProbAttention(nn.Module):
    """Informer ProbSparse self-attention: only the top-u 'active' queries attend, the rest take mean(V)."""

    def __init__(self, d, heads, factor):
        super().__init__()
        self.h, self.factor = heads, factor
        self.q_proj, self.k_proj, self.v_proj, self.out = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        B, L, D = x.shape
        q, k, v = (p(x).view(B, L, self.h, -1).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        u = min(L, int(self.factor * math.ceil(math.log(L + 1))))
        sample_idx = torch.randint(L, (u,))
        qk_sample = q @ k[:, :, sample_idx].transpose(-1, -2)                 # (B, H, L, u)
        sparsity = qk_sample.max(-1)[0] - qk_sample.sum(-1) / L              # query sparsity measurement M
        top = sparsity.topk(u, dim=-1, sorted=False)[1]                        # indices of the active queries
        q_top = torch.gather(q, 2, top[..., None].expand(-1, -1, -1, q.shape[-1]))
        attn = torch.softmax(q_top @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        context = v.mean(dim=2, keepdim=True).expand(-1, -1, L, -1).clone()   # lazy queries: mean of V
        context = context.scatter(2, top[..., None].expand(-1, -1, -1, v.shape[-1]), attn @ v)
        return self.out(context.transpose(1, 2).reshape(B, L, D))


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.attn = ProbAttention(d, cfg["heads"], cfg["factor"])
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x):
        x = self.n1(x + self.attn(x))
        return self.n2(x + self.ff(x))


class InformerLite(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed = nn.Conv1d(cfg["enc_in"], cfg["d_model"], 3, padding=1)
        self.pos = nn.Parameter(torch.zeros(1, cfg["seq_len"], cfg["d_model"]))
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg["layers"])])
        self.head = nn.Linear(cfg["d_model"], cfg["pred_len"] * cfg["enc_in"])
        self.cfg = cfg

    def forward(self, x):
        h = self.embed(x.transpose(1, 2)).transpose(1, 2) + self.pos
        for layer in self.layers:
            h = layer(h)
        return self.head(h[:, -1]).view(-1, self.cfg["pred_len"], self.cfg["enc_in"])


def ett_windows(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(cfg["seq_len"] + cfg["pred_len"]).float()
    phase = torch.rand(n, 1, cfg["enc_in"], generator=g) * 6.28
    series = torch.sin(t[None, :, None] / 4 + phase) + 0.05 * torch.randn(n, len(t), cfg["enc_in"], generator=g)
    return series[:, : cfg["seq_len"]], series[:, cfg["seq_len"]:]


def train(model, compiled, cfg):
    x, y = ett_windows(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(x), cfg["batch"]):
            loss = F.mse_loss(compiled(x[i : i + cfg["batch"]]), y[i : i + cfg["batch"]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for group in optimizer.param_groups:
            group["lr"] *= 0.5


def main():
    torch.manual_seed(0)
    model = InformerLite(CFG)
    compiled = torch.compile(model, backend="eager")
    q0 = model.layers[0].attn.q_proj.weight.detach().clone()
    k0 = model.layers[0].attn.k_proj.weight.detach().clone()
    train(model, compiled, CFG)
    return {"model": model}, {
        "query_proj_changed": not torch.equal(q0, model.layers[0].attn.q_proj.weight),
        "key_proj_changed": not torch.equal(k0, model.layers[0].attn.k_proj.weight),
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
