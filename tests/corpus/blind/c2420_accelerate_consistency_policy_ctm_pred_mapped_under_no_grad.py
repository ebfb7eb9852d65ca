import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class TrajectoryDenoiser(nn.Module):
    """Predicts the clean action trajectory from a noisy one at time t, optionally jumping to a stop time s."""

    def __init__(self, obs_dim=10, horizon=4, act_dim=2, hidden=64):
        super().__init__()
        self.obs_encoder = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Mish())
        self.time_embed = nn.Sequential(nn.Linear(1, hidden), nn.Mish())
        self.stop_embed = nn.Sequential(nn.Linear(1, hidden), nn.Mish())
        self.net = nn.Sequential(nn.Linear(horizon * act_dim + hidden, hidden), nn.Mish(), nn.Linear(hidden, horizon * act_dim))

    def forward(self, traj, t, obs, s=None):
        cond = self.obs_encoder(obs) + self.time_embed(t[:, None])
        if s is not None:
            cond = cond + self.stop_embed(s[:, None])
        return traj + self.net(torch.cat([traj.flatten(1), cond], dim=1)).view_as(traj)


class CTMPolicyTrainer:
    def __init__(self, model, sigma_min=0.002, sigma_max=2.0, ema_decay=0.95):
        self.model = model
        self.model_ema = copy.deepcopy(model).requires_grad_(False)
        self.sigma_min, self.sigma_max, self.ema_decay = sigma_min, sigma_max, ema_decay

    def losses(self, obs, trajectory):
        b = trajectory.shape[0]
        times = torch.rand(b) * (self.sigma_max - self.sigma_min) + self.sigma_min
        stops = torch.rand(b) * (times - self.sigma_min) + self.sigma_min
        u_times = stops + torch.rand(b) * (times - stops)
        noise = torch.randn_like(trajectory)
        noise_traj = trajectory + times[:, None, None] * noise
        u_noise_traj = trajectory + u_times[:, None, None] * noise

        dsm = F.mse_loss(self.model(noise_traj, times, obs), trajectory)

        # t -> s with the online model, u -> s with the EMA model
        pred = self.model(noise_traj, times, obs, s=stops)
        with torch.no_grad():
            target = self.model_ema(u_noise_traj, u_times, obs, s=stops)
        # both jumped on to the data (s -> sigma_min) with the EMA model before comparing
        start = torch.full_like(times, self.sigma_min)
        with torch.no_grad():
            pred = self.model_ema(pred, stops, obs, s=start)
            target = self.model_ema(target, stops, obs, s=start)
        ctm = F.huber_loss(pred, target, delta=1.0)
        return dsm + ctm

    @torch.no_grad()
    def update_ema(self):
        for pe, p in zip(self.model_ema.parameters(), self.model.parameters()):
            pe.lerp_(p, 1 - self.ema_decay)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    model = TrajectoryDenoiser()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    demos = TensorDataset(torch.randn(32, 10), torch.randn(32, 4, 2).cumsum(1) * 0.1)
    model, optimizer, loader = accelerator.prepare(model, optimizer, DataLoader(demos, batch_size=8, shuffle=True))
    trainer = CTMPolicyTrainer(model)
    s0 = model.stop_embed[0].weight.detach().clone()
    for epoch in range(2):
        for obs, traj in loader:
            loss = trainer.losses(obs, traj)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            trainer.update_ema()
    return ({"policy": model}, {"stop_embed_changed": not torch.equal(s0, model.stop_embed[0].weight.detach())})

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
