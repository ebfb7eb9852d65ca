import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class SynthesisFilterBank1D(torch.autograd.Function):
    """Inverse one-level DWT: upsample both bands and filter them with the synthesis filters."""

    @staticmethod
    def forward(ctx, low, high, g0, g1):
        ctx.save_for_backward(g0, g1)
        up_l = torch.zeros(low.shape[0], low.shape[1], low.shape[2] * 2, dtype=low.dtype)
        up_h = torch.zeros_like(up_l)
        up_l[..., ::2] = low
        up_h[..., ::2] = high
        return F.conv1d(up_l, g0, padding=1) + F.conv1d(up_h, g1, padding=1)

    @staticmethod
    def backward(ctx, dy):
        g0, g1 = ctx.saved_tensors
        dlow, dhigh = None, None
        if ctx.needs_input_grad[0]:
            dlow = F.conv_transpose1d(dy, g0, padding=1)[..., ::2]
            dhigh = F.conv_transpose1d(dy, g1, padding=1)[..., ::2]
        return dlow, dhigh, None, None


class DetailPredictor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, 8, 3, padding=1), nn.GELU(), nn.Conv1d(8, 1, 3, padding=1))

    def forward(self, coarse):
        return self.net(coarse)


class WaveletUpsampler(nn.Module):
    def __init__(self):
        super().__init__()
        self.detail = DetailPredictor()
        self.register_buffer("g0", torch.tensor([[[0.5, 1.0, 0.5]]]))
        self.register_buffer("g1", torch.tensor([[[-0.5, 1.0, -0.5]]]))

    def forward(self, coarse):
        return SynthesisFilterBank1D.apply(coarse, self.detail(coarse), self.g0, self.g1)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    hi_res = torch.sin(torch.linspace(0, 12, 32)).repeat(16, 1, 1) + 0.1 * torch.randn(16, 1, 32)
    coarse = F.avg_pool1d(hi_res, 2)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(coarse, hi_res), batch_size=4))
    model = WaveletUpsampler()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    w0 = model.module.detail.net[0].weight.detach().clone()
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        fabric.backward(loss)
        optimizer.step()
    return {"model": model.module}, {"detail_changed": not torch.equal(w0, model.module.detail.net[0].weight)}

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
