import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed

CFG = {"agents": 6, "hidden": 32, "embed": 16, "window": 6, "windows": 4, "lr": 2e-3, "epochs": 2, "clip": 1.0}


class SocialAttentionPool(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.rel = nn.Linear(2, hidden)
        self.score = nn.Linear(2 * hidden, 1)

    def forward(self, h, pos):
        N = h.shape[0]
        rel = self.rel(pos[None] - pos[:, None])                          # N x N x H
        scores = self.score(torch.cat([h[None].expand(N, -1, -1), rel], -1)).squeeze(-1)
        scores = scores.masked_fill(torch.eye(N, dtype=torch.bool), float("-inf"))
        return torch.softmax(scores, -1) @ h


class SocialLSTM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(2, cfg["embed"])
        self.pool = SocialAttentionPool(cfg["hidden"])
        self.cell = nn.LSTMCell(cfg["embed"] + cfg["hidden"], cfg["hidden"])
        self.out = nn.Linear(cfg["hidden"], 2)

    def init_state(self, n):
        return torch.zeros(n, self.cfg["hidden"]), torch.zeros(n, self.cfg["hidden"])

    def forward(self, window, state):
        h, c = state
        preds = []
        for t in range(window.shape[0] - 1):
            pos = window[t]
            inp = torch.cat([F.relu(self.embed(window[t + 1] - pos)), self.pool(h, pos)], -1)
            h, c = self.cell(inp, (h, c))
            preds.append(pos + self.out(h))
        return torch.stack(preds), (h, c)


def long_scene(cfg, seed):
    """One long crowd recording, cut into consecutive windows (truncated BPTT over the recording)."""
    g = torch.Generator().manual_seed(seed)
    T = cfg["window"] * cfg["windows"]
    start = torch.randn(cfg["agents"], 2, generator=g) * 3
    vel = torch.randn(cfg["agents"], 2, generator=g) * 0.2
    traj = start[None] + torch.arange(T).float()[:, None, None] * vel[None]
    return traj.split(cfg["window"], dim=0)


def train_one_epoch(model, optimizer, accelerator, scenes, cfg):
    for windows in scenes:
        state = model.init_state(cfg["agents"])
        for window in windows:
            preds, state = model(window, state)
            loss = F.mse_loss(preds, window[1:])
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), cfg["clip"])
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = SocialLSTM(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = accelerator.prepare(model, optimizer)
    w0 = model.cell.weight_ih.detach().clone()
    scenes = [long_scene(CFG, seed=s) for s in range(2)]
    for epoch in range(CFG["epochs"]):
        train_one_epoch(model, optimizer, accelerator, scenes, CFG)
    return {"model": model}, {"lstm_changed": not torch.equal(w0, model.cell.weight_ih)}

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
