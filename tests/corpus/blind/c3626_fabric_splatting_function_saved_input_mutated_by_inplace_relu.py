import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class ForwardWarp1D(torch.autograd.Function):
    """Summation splatting along the last axis by an integer-rounded flow (custom backward)."""

    @staticmethod
    def forward(ctx, feat, flow):
        ctx.save_for_backward(feat, flow)
        idx = (torch.arange(feat.shape[-1]) + flow.round().long()).clamp(0, feat.shape[-1] - 1)
        out = torch.zeros_like(feat).scatter_add_(-1, idx.expand_as(feat), feat)
        ctx.idx = idx
        return out

    @staticmethod
    def backward(ctx, grad_out):
        feat, flow = ctx.saved_tensors
        grad_feat = grad_out.gather(-1, ctx.idx.expand_as(feat))
        return grad_feat, None


class FrameInterpolator(nn.Module):
    def __init__(self, ch=6):
        super().__init__()
        self.encode = nn.Conv1d(2, ch, 3, 1, 1)
        self.act = nn.ReLU(inplace=True)
        self.decode = nn.Conv1d(2 * ch, 1, 3, 1, 1)

    def forward(self, frames):
        feat = self.encode(frames)
        warped = ForwardWarp1D.apply(feat, 2.0 * (frames[:, 1:] - frames[:, :1]))
        context = self.act(feat)
        return self.decode(torch.cat([warped, context], dim=1))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    frames = torch.randn(12, 2, 16)
    middle = frames.mean(1, keepdim=True)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(frames, middle), batch_size=4))
    model = FrameInterpolator()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    for x, y in loader:
        optimizer.zero_grad()
        fabric.backward(F.l1_loss(model(x), y))
        optimizer.step()
    return {"model": model.module}

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
