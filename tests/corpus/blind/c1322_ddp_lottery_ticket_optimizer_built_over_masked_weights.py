import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset


class MLPClassifier(nn.Module):
    def __init__(self, dims=(20, 32, 32, 4)):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


def magnitude_masks(model, sparsity=0.5):
    masks = {}
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            k = int(p.numel() * sparsity)
            threshold = p.detach().abs().flatten().kthvalue(k).values
            masks[name] = (p.detach().abs() > threshold).float()
    return masks


def rewind_and_mask(model, init_state, masks):
    model.load_state_dict(init_state)
    params = []
    for name, p in model.named_parameters():
        params.append(p * masks[name] if name in masks else p)
    return params


def main():
    torch.manual_seed(0)
    init_file = os.path.join(tempfile.mkdtemp(), "ddp_init")
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=0, world_size=1)
    try:
        model = MLPClassifier()
        init_state = {k: v.clone() for k, v in model.state_dict().items()}
        masks = magnitude_masks(model)
        ddp_model = DDP(model)
        optimizer = torch.optim.SGD(rewind_and_mask(model, init_state, masks), lr=0.1, momentum=0.9)
        g = torch.Generator().manual_seed(29)
        x = torch.randn(32, 20, generator=g)
        loader = DataLoader(TensorDataset(x, (x[:, :2].sum(1) > 0).long()), batch_size=8, shuffle=True, generator=g)
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(ddp_model(xb), yb).backward()
            optimizer.step()
    finally:
        dist.destroy_process_group()
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
