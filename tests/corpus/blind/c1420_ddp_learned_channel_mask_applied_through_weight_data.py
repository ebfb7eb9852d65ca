import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset


class MaskedLinear(nn.Linear):
    """Linear layer whose output units are gated by a learned soft mask (pruning with feedback)."""

    def __init__(self, in_features, out_features, temperature=0.5):
        super().__init__(in_features, out_features)
        self.mask_scores = nn.Parameter(torch.full((out_features, 1), 2.0))
        self.temperature = temperature

    def forward(self, x):
        mask = torch.sigmoid(self.mask_scores / self.temperature)
        self.weight.data = torch.mul(self.weight, mask)
        return F.linear(x, self.weight, self.bias)


class PrunableNet(nn.Module):
    def __init__(self, in_dim=16, hidden=24, n_classes=4):
        super().__init__()
        self.layer1 = MaskedLinear(in_dim, hidden)
        self.layer2 = MaskedLinear(hidden, hidden)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.head(F.relu(self.layer2(F.relu(self.layer1(x)))))


def main():
    torch.manual_seed(0)
    init_file = os.path.join(tempfile.mkdtemp(), "ddp_init")
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=0, world_size=1)
    try:
        net = PrunableNet()
        model = DDP(net)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        g = torch.Generator().manual_seed(21)
        loader = DataLoader(TensorDataset(torch.randn(48, 16, generator=g), torch.randint(0, 4, (48,), generator=g)),
                            batch_size=16, shuffle=True, generator=g)
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        dist.destroy_process_group()
    return {"model": net}

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
