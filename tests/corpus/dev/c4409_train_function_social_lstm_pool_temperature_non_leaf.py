import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"embed": 16, "hidden": 32, "grid": 4, "neighborhood": 2.0, "tau0": 1.0,
       "lr": 3e-3, "lr_temperature": 1e-2, "obs_len": 6, "pred_len": 4}


class SocialPooling(nn.Module):
    """Soft occupancy-grid pooling of neighbours' hidden states (Social-LSTM)."""

    def __init__(self, hidden, grid, neighborhood):
        super().__init__()
        self.grid, self.nbh = grid, neighborhood
        self.proj = nn.Linear(grid * grid * hidden, hidden)

    def forward(self, h, pos, temperature):
        N, H = h.shape
        rel = (pos[None, :, :] - pos[:, None, :]) / self.nbh                    # N x N x 2
        centers = torch.linspace(-1, 1, self.grid)
        cx = torch.stack(torch.meshgrid(centers, centers, indexing="ij"), -1).reshape(-1, 2)
        logits = -((rel[:, :, None, :] - cx[None, None]) ** 2).sum(-1) / temperature
        weights = torch.softmax(logits, dim=-1) * (1 - torch.eye(N))[..., None]   # N x N x G
        pooled = torch.einsum("ijg,jh->igh", weights, h).reshape(N, -1)
        return self.proj(pooled)


class SocialLSTM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(2, cfg["embed"])
        self.pool = SocialPooling(cfg["hidden"], cfg["grid"], cfg["neighborhood"])
        self.cell = nn.LSTMCell(cfg["embed"] + cfg["hidden"], cfg["hidden"])
        self.out = nn.Linear(cfg["hidden"], 2)
        self.pool_temperature = torch.full((1,), cfg["tau0"], requires_grad=True).log()

    def forward(self, obs):
        T, N, _ = obs.shape
        h = torch.zeros(N, self.cfg["hidden"])
        c = torch.zeros(N, self.cfg["hidden"])
        tau = self.pool_temperature.exp()
        pos, preds = obs[0], []
        for t in range(T + self.cfg["pred_len"] - 1):
            pos = obs[t] if t < T else pos + preds[-1]
            social = self.pool(h, pos, tau)
            h, c = self.cell(torch.cat([F.relu(self.embed(pos)), social], -1), (h, c))
            if t >= T - 1:
                preds.append(self.out(h))
        return torch.stack(preds)


def build_optimizer(model, cfg):
    backbone = [p for n, p in model.named_parameters() if n != "pool_temperature"]
    return torch.optim.Adam([
        {"params": backbone, "lr": cfg["lr"]},
        {"params": [model.pool_temperature], "lr": cfg["lr_temperature"]},
    ])


def scenes(n=4, agents=5, cfg=CFG):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        start = torch.randn(agents, 2, generator=g) * 2
        vel = torch.randn(agents, 2, generator=g) * 0.3
        steps = torch.arange(cfg["obs_len"] + cfg["pred_len"]).float()[:, None, None]
        out.append(start[None] + steps * vel[None])
    return out


def train_one_epoch(model, optimizer, data, cfg):
    total = 0.0
    for traj in data:
        obs, fut = traj[:cfg["obs_len"]], traj[cfg["obs_len"]:]
        disp = model(obs)
        pred = obs[-1] + torch.cumsum(disp, dim=0)
        loss = F.mse_loss(pred, fut)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(data)


def main():
    torch.manual_seed(0)
    model = SocialLSTM(CFG)
    optimizer = build_optimizer(model, CFG)
    tau0 = model.pool_temperature.detach().clone()
    for epoch in range(2):
        train_one_epoch(model, optimizer, scenes(), CFG)
    return {"model": model}, {"temperature_changed": not torch.equal(tau0, model.pool_temperature.detach())}

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
