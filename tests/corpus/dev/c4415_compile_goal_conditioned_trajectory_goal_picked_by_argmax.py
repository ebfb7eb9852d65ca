import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"obs_len": 8, "pred_len": 6, "hidden": 32, "grid": 7, "extent": 6.0, "lr": 2e-3, "epochs": 3}


def goal_candidates(grid, extent):
    axis = torch.linspace(-extent, extent, grid)
    return torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)


class PastEncoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.gru = nn.GRU(2, hidden, batch_first=True)

    def forward(self, past):
        _, h = self.gru(past - past[:, -1:])
        return h[-1]


class GoalHead(nn.Module):
    """Scores every candidate endpoint of a fixed grid (TNT / Y-Net style goal heatmap)."""

    def __init__(self, hidden, n_candidates):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_candidates))

    def forward(self, h):
        return self.mlp(h)


class GoalConditionedPredictor(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("candidates", goal_candidates(cfg["grid"], cfg["extent"]))
        self.encoder = PastEncoder(cfg["hidden"])
        self.goal_head = GoalHead(cfg["hidden"], self.candidates.shape[0])
        self.decoder = nn.Sequential(nn.Linear(cfg["hidden"] + 2, cfg["hidden"]), nn.ReLU(),
                                     nn.Linear(cfg["hidden"], cfg["pred_len"] * 2))

    def select_goal(self, heatmap):
        best = heatmap.argmax(dim=-1)
        return self.candidates[best]

    def forward(self, past):
        h = self.encoder(past)
        goal = self.select_goal(self.goal_head(h))
        offsets = self.decoder(torch.cat([h, goal], -1)).view(-1, self.cfg["pred_len"], 2)
        return past[:, -1:] + offsets, goal


def loss_fn(pred, goal, past, future):
    endpoint = F.smooth_l1_loss(goal, future[:, -1] - past[:, -1])
    ade = (pred - future).norm(dim=-1).mean()
    return ade + endpoint


def eth_like_batches(cfg, n_batches=4, b=16):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n_batches):
        v = torch.randn(b, 1, 2, generator=g) * 0.5
        t = torch.arange(cfg["obs_len"] + cfg["pred_len"]).float()[None, :, None]
        traj = t * v + 0.05 * torch.randn(b, t.shape[1], 2, generator=g)
        out.append((traj[:, :cfg["obs_len"]], traj[:, cfg["obs_len"]:]))
    return out


def train_one_epoch(compiled, optimizer, batches):
    for past, future in batches:
        pred, goal = compiled(past)
        loss = loss_fn(pred, goal, past, future)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = GoalConditionedPredictor(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    compiled = torch.compile(model, backend="eager")
    head0 = model.goal_head.mlp[0].weight.detach().clone()
    dec0 = model.decoder[0].weight.detach().clone()
    batches = eth_like_batches(CFG)
    for epoch in range(CFG["epochs"]):
        train_one_epoch(compiled, optimizer, batches)
    return {"model": model}, {
        "goal_head_changed": not torch.equal(head0, model.goal_head.mlp[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder[0].weight),
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
