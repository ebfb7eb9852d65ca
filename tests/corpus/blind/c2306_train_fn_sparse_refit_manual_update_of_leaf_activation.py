import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerReconstructor(nn.Module):
    """Frozen dense layer whose sparse-pruned copy is refit by optimizing auxiliary activations."""

    def __init__(self, d_in=12, d_out=8):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.dense.requires_grad_(False)

    def forward(self, x):
        return self.dense(x)


def refit_chunk(layer, inputs, targets, s, chunk, s_learning_rate=0.1, steps=3):
    s_batch = s[:, chunk].clone().detach().requires_grad_(True)
    for _ in range(steps):
        pred = layer(inputs)[:, chunk] + s_batch
        loss_s = F.mse_loss(pred, targets[:, chunk])
        loss_s.backward()
        s_batch -= s_learning_rate * s_batch.grad
        s_batch.grad.zero_()
    s[:, chunk] = s_batch.detach()
    return s


def train(layer, inputs, targets, n_chunks=2):
    s = torch.zeros(targets.shape)
    for chunk in torch.arange(targets.shape[1]).chunk(n_chunks):
        s = refit_chunk(layer, inputs, targets, s, chunk)
    return s


def main():
    torch.manual_seed(0)
    layer = LayerReconstructor()
    inputs, targets = torch.randn(6, 12), torch.randn(6, 8)
    s = train(layer, inputs, targets)
    return {"layer": layer}, {"s_norm_positive": bool(s.abs().sum() > 0)}

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
