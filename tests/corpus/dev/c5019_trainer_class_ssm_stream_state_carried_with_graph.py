import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"d_in": 4, "d_model": 16, "d_state": 8, "chunk": 8, "seq_len": 32, "lr": 3e-3, "epochs": 2}


class DiagonalSSM(nn.Module):
    """S4D-style diagonal state-space layer run as a recurrence, so a long stream can be fed chunk by chunk."""

    def __init__(self, d_model, d_state):
        super().__init__()
        self.log_neg_A = nn.Parameter(torch.log(torch.linspace(0.5, 2.0, d_state)).repeat(d_model, 1))
        self.log_dt = nn.Parameter(torch.full((d_model, 1), -2.0))
        self.B = nn.Parameter(torch.randn(d_model, d_state) * 0.3)
        self.C = nn.Parameter(torch.randn(d_model, d_state) * 0.3)
        self.D = nn.Parameter(torch.ones(d_model))

    def forward(self, u, state=None):
        bsz, length, d = u.shape
        dt = self.log_dt.exp()
        dA = torch.exp(-dt * self.log_neg_A.exp())
        dB = dt * self.B
        h = u.new_zeros(bsz, d, self.B.shape[1]) if state is None else state
        ys = []
        for k in range(length):
            h = dA * h + dB * u[:, k, :, None]
            ys.append((h * self.C).sum(-1) + self.D * u[:, k])
        return torch.stack(ys, dim=1), h


class StreamingRegressor(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.inp = nn.Linear(cfg["d_in"], cfg["d_model"])
        self.ssm = DiagonalSSM(cfg["d_model"], cfg["d_state"])
        self.out = nn.Linear(cfg["d_model"], 1)

    def forward(self, x, state=None):
        y, state = self.ssm(self.inp(x), state)
        return self.out(F.gelu(y)).squeeze(-1), state


class StreamingTrainer:
    """Truncated training over long streams: each chunk is one optimizer step, the SSM state flows on."""

    def __init__(self, model, optimizer, cfg):
        self.model, self.optimizer, self.cfg = model, optimizer, cfg
        self.state = None

    def chunks(self, x, y):
        for s in range(0, x.shape[1], self.cfg["chunk"]):
            yield x[:, s:s + self.cfg["chunk"]], y[:, s:s + self.cfg["chunk"]]

    def train_step(self, x, y):
        pred, self.state = self.model(x, self.state)
        loss = F.mse_loss(pred, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, loader):
        self.model.train()
        for epoch in range(self.cfg["epochs"]):
            for x, y in loader:
                self.state = None
                for xc, yc in self.chunks(x, y):
                    self.train_step(xc, yc)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, CFG["seq_len"], CFG["d_in"], generator=g)
    y = torch.cumsum(x[..., 0], dim=1) * 0.1
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)
    model = StreamingRegressor(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    StreamingTrainer(model, optimizer, CFG).fit(loader)
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
