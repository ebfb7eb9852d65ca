import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler


class GeneratedLinear(nn.Module):
    """A linear layer whose weights come from the hypernetwork instead of being learned directly."""

    def __init__(self, weight, bias):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class HyperImplicitField(ModelMixin, ConfigMixin):
    """Shape code -> hypernetwork -> weights of a small occupancy network over 2D coordinates."""

    @register_to_config
    def __init__(self, n_shapes=3, code_dim=4, target_hidden=16):
        super().__init__()
        self.shapes = [(target_hidden, 2), (target_hidden,), (1, target_hidden), (1,)]
        n_out = sum(torch.Size(s).numel() for s in self.shapes)
        self.codes = nn.Embedding(n_shapes, code_dim)
        self.hyper = nn.Sequential(nn.Linear(code_dim, 64), nn.ReLU(), nn.Linear(64, n_out))
        self.logit_scale = nn.Parameter(torch.ones(1))

    def build_target(self, code):
        flat = 0.5 * self.hyper(code)
        chunks, offset = [], 0
        for shape in self.shapes:
            n = torch.Size(shape).numel()
            chunks.append(flat[offset:offset + n].view(shape))
            offset += n
        w1, b1, w2, b2 = chunks
        return nn.Sequential(GeneratedLinear(w1, b1), nn.ReLU(), GeneratedLinear(w2, b2))

    def forward(self, shape_idx, coords):
        target = self.build_target(self.codes.weight[shape_idx])
        return self.logit_scale * target(coords).squeeze(-1)


def occupancy(shape_idx, coords):
    if shape_idx == 0:
        return (coords.norm(dim=-1) < 0.6).float()
    if shape_idx == 1:
        return (coords.abs().max(dim=-1).values < 0.5).float()
    return (coords[:, 0] + coords[:, 1] > 0).float()


def main():
    torch.manual_seed(0)
    model = HyperImplicitField()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    lr_scheduler = get_scheduler("constant", optimizer, num_warmup_steps=0, num_training_steps=12)
    hyper0 = model.hyper[2].weight.detach().clone()
    codes0 = model.codes.weight.detach().clone()
    scale0 = model.logit_scale.detach().clone()
    g = torch.Generator().manual_seed(0)
    for step in range(12):
        shape_idx = step % 3
        coords = torch.rand(64, 2, generator=g) * 2 - 1
        logits = model(shape_idx, coords)
        loss = F.binary_cross_entropy_with_logits(logits, occupancy(shape_idx, coords))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"model": model}, {
        "hypernetwork_changed": not torch.equal(hyper0, model.hyper[2].weight),
        "shape_codes_changed": not torch.equal(codes0, model.codes.weight),
        "logit_scale_changed": not torch.equal(scale0, model.logit_scale),
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
