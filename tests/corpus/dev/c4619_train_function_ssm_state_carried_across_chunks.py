import math
import torch
import torch.nn as nn
import torch.nn.functional as F

SETTINGS = {"vocab": 32, "d_model": 16, "d_state": 8, "chunk": 16, "stream_len": 96, "lr": 3e-3, "layers": 2}


class DiagonalSSM(nn.Module):
    """x_t = exp(dt*A) x_{t-1} + dt*B u_t ; y_t = C x_t + D u_t, one independent SSM per channel."""

    def __init__(self, d_model, d_state):
        super().__init__()
        self.log_dt = nn.Parameter(torch.empty(d_model).uniform_(math.log(1e-3), math.log(1e-1)))
        self.log_neg_A = nn.Parameter(torch.log(torch.arange(1, d_state + 1).float()).repeat(d_model, 1))
        self.B = nn.Parameter(torch.randn(d_model, d_state) * 0.5)
        self.C = nn.Parameter(torch.randn(d_model, d_state) * 0.5)
        self.D = nn.Parameter(torch.ones(d_model))

    def forward(self, u, state):
        dt = self.log_dt.exp().unsqueeze(-1)
        A_bar = torch.exp(-dt * self.log_neg_A.exp())
        B_bar = dt * self.B
        ys = []
        for t in range(u.size(1)):
            state = A_bar * state + B_bar * u[:, t].unsqueeze(-1)
            ys.append((state * self.C).sum(-1) + self.D * u[:, t])
        return torch.stack(ys, dim=1), state


class SSMBlock(nn.Module):
    def __init__(self, d_model, d_state):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.ssm = DiagonalSSM(d_model, d_state)
        self.out = nn.Linear(d_model, 2 * d_model)

    def forward(self, x, state):
        y, state = self.ssm(self.norm(x), state)
        return x + F.glu(self.out(F.gelu(y)), dim=-1), state


class SSMLanguageModel(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.embed = nn.Embedding(s["vocab"], s["d_model"])
        self.blocks = nn.ModuleList(SSMBlock(s["d_model"], s["d_state"]) for _ in range(s["layers"]))
        self.head = nn.Linear(s["d_model"], s["vocab"])
        self.d_model, self.d_state = s["d_model"], s["d_state"]

    def initial_state(self, batch):
        return [torch.zeros(batch, self.d_model, self.d_state) for _ in self.blocks]

    def forward(self, tokens, states):
        x = self.embed(tokens)
        new_states = []
        for blk, st in zip(self.blocks, states):
            x, st = blk(x, st)
            new_states.append(st)
        return self.head(x), new_states


def byte_stream(s, batch=2):
    g = torch.Generator().manual_seed(0)
    base = torch.randint(0, s["vocab"], (batch, 8), generator=g)
    return base.repeat(1, s["stream_len"] // 8 + 1)[:, : s["stream_len"] + 1]


def train_on_stream(model, optimizer, stream, chunk):
    state = model.initial_state(stream.size(0))
    losses = []
    for start in range(0, stream.size(1) - 1, chunk):
        inp = stream[:, start:start + chunk]
        tgt = stream[:, start + 1:start + chunk + 1]
        logits, final_state = model(inp, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state = final_state
        losses.append(loss.item())
    return losses


@torch.no_grad()
def bits_per_byte(model, stream, chunk):
    state = model.initial_state(stream.size(0))
    nll, count = 0.0, 0
    for start in range(0, stream.size(1) - 1, chunk):
        logits, state = model(stream[:, start:start + chunk], state)
        tgt = stream[:, start + 1:start + chunk + 1]
        nll += F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1), reduction="sum").item()
        count += tgt.numel()
    return nll / count / math.log(2)


def main():
    torch.manual_seed(0)
    model = SSMLanguageModel(SETTINGS)
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in model.named_parameters() if "ssm" in n], "lr": SETTINGS["lr"], "weight_decay": 0.0},
        {"params": [p for n, p in model.named_parameters() if "ssm" not in n], "lr": SETTINGS["lr"]},
    ])
    dt0 = model.blocks[0].ssm.log_dt.detach().clone()
    stream = byte_stream(SETTINGS)
    losses = train_on_stream(model, optimizer, stream, SETTINGS["chunk"])
    bits_per_byte(model, stream, SETTINGS["chunk"])
    return {"model": model}, {
        "ssm_changed": not torch.equal(dt0, model.blocks[0].ssm.log_dt),
        "chunks_trained": len(losses),
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
