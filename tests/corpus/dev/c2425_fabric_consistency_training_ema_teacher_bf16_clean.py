import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


def karras_sigmas(n, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    ramp = torch.linspace(0, 1, n)
    return (sigma_min ** (1 / rho) + ramp * (sigma_max ** (1 / rho) - sigma_min ** (1 / rho))) ** rho


class ConsistencyNet(nn.Module):
    def __init__(self, dim=8, hidden=64, sigma_data=0.5, sigma_min=0.002):
        super().__init__()
        self.sigma_data, self.sigma_min = sigma_data, sigma_min
        self.sigma_embed = nn.Sequential(nn.Linear(1, hidden), nn.SiLU())
        self.body = nn.Sequential(nn.Linear(dim + hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                  nn.Linear(hidden, dim))

    def forward(self, x, sigma):
        c_skip = self.sigma_data ** 2 / ((sigma - self.sigma_min) ** 2 + self.sigma_data ** 2)
        c_out = (sigma - self.sigma_min) * self.sigma_data / (sigma ** 2 + self.sigma_data ** 2).sqrt()
        h = torch.cat([x, self.sigma_embed(sigma.log()[:, None] / 4)], dim=1)
        return c_skip[:, None] * x + c_out[:, None] * self.body(h)


def consistency_step(student, teacher, x0, n_steps):
    sigmas = karras_sigmas(n_steps)
    idx = torch.randint(0, n_steps - 1, (x0.shape[0],))
    noise = torch.randn_like(x0)
    x_next = x0 + sigmas[idx + 1][:, None] * noise
    x_cur = x0 + sigmas[idx][:, None] * noise
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        pred = student(x_next, sigmas[idx + 1])
        with torch.no_grad():
            target = teacher(x_cur, sigmas[idx])
    return F.mse_loss(pred.float(), target.float())


@torch.no_grad()
def ema_update(teacher, student, mu):
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.lerp_(s.detach(), 1 - mu)


def train(fabric, student, teacher, optimizer, data, steps=8, batch=16):
    for step in range(steps):
        n_steps = math.ceil(math.sqrt((step / steps) * (150 ** 2 - 4) + 4) - 1) + 1
        x0 = data[torch.randint(0, data.shape[0], (batch,))]
        loss = consistency_step(student, teacher, x0, max(n_steps, 2))
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        ema_update(teacher, student, mu=0.95)


def main():
    fabric = Fabric(accelerator="cpu", precision="bf16-mixed")
    fabric.seed_everything(0)
    net = ConsistencyNet()
    teacher = copy.deepcopy(net).requires_grad_(False)
    optimizer = torch.optim.RAdam(net.parameters(), lr=1e-3)
    student, optimizer = fabric.setup(net, optimizer)
    data = torch.randn(64, 8) * 0.5
    t0 = teacher.body[-1].weight.detach().clone()
    train(fabric, student, teacher, optimizer, data)
    return ({"student": net}, {"teacher_changed": not torch.equal(t0, teacher.body[-1].weight)})

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
