import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class HeadPoseNet(nn.Module):
    """Shared trunk with three regression nodes (yaw, pitch, roll)."""

    def __init__(self, d_in=32, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU())
        self.fc_yaw = nn.Linear(hidden, 1)
        self.fc_pitch = nn.Linear(hidden, 1)
        self.fc_roll = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.fc_yaw(h).squeeze(-1), self.fc_pitch(h).squeeze(-1), self.fc_roll(h).squeeze(-1)


def train_stage_yaw_only(model, loader, optimizer, accelerator, pseudo_batch_loop=2, batch_size=8):
    """First curriculum stage: regress yaw only, accumulating over a pseudo batch."""
    for i, (x, yaw, pitch, roll) in enumerate(loader):
        yaw_pred, _, _ = model(x)
        loss = F.smooth_l1_loss(yaw_pred, yaw)
        accelerator.backward(loss)
        if (i + 1) % pseudo_batch_loop == 0:
            for param in model.parameters():
                param.grad *= 1.0 / float(pseudo_batch_loop * batch_size)
            optimizer.step()
            optimizer.zero_grad()


def main():
    set_seed(0)
    accelerator = Accelerator()
    x = torch.randn(32, 32)
    angles = torch.tanh(x[:, :3]) * 90
    loader = DataLoader(TensorDataset(x, angles[:, 0], angles[:, 1], angles[:, 2]), batch_size=8)
    model = HeadPoseNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    trunk0 = model.trunk[0].weight.detach().clone()
    train_stage_yaw_only(model, loader, optimizer, accelerator)
    return {"model": model}, {"trunk_changed": not torch.equal(trunk0, model.trunk[0].weight)}

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
