import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class KeyEncoder(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.net = nn.Sequential(conv_bn(3, dim), conv_bn(dim, dim))

    def forward(self, frame):
        return self.net(frame)


class ValueEncoder(nn.Module):
    """Encodes (frame, mask) pairs into memory values. At inference the memory bank is rebuilt every few
    frames, so the graph is skipped whenever the module is not training."""

    def __init__(self, dim=8):
        super().__init__()
        self.net = nn.Sequential(conv_bn(4, dim), conv_bn(dim, dim))

    def forward(self, frame, mask):
        with torch.set_grad_enabled(self.training):
            return self.net(torch.cat([frame, mask], dim=1))


class MemoryReader(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.decoder = nn.Sequential(conv_bn(2 * dim, dim), nn.Conv2d(dim, 1, 1))

    def forward(self, query_key, memory_key, memory_value):
        b, c, h, w = query_key.shape
        affinity = torch.einsum("bchw,bcxy->bhwxy", query_key, memory_key).reshape(b, h * w, h * w)
        affinity = affinity.softmax(dim=-1)
        readout = torch.einsum("bqk,bck->bcq", affinity, memory_value.flatten(2)).reshape(b, c, h, w)
        return self.decoder(torch.cat([readout, query_key], dim=1))


class TinyXMem(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.key_encoder, self.value_encoder, self.reader = KeyEncoder(dim), ValueEncoder(dim), MemoryReader(dim)

    def forward(self, ref_frame, ref_mask, query_frame):
        memory_key = self.key_encoder(ref_frame)
        memory_value = self.value_encoder(ref_frame, ref_mask)
        return self.reader(self.key_encoder(query_frame), memory_key, memory_value)


def make_clips(n=8, size=6):
    g = torch.Generator().manual_seed(0)
    frames = torch.rand(n, 2, 3, size, size, generator=g)
    masks = (frames[:, :, 0:1] > 0.5).float()
    return frames, masks


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = TinyXMem()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.eval()  # BatchNorm statistics stay frozen (batch size is tiny), as in STM/XMem training
    value_before = model.value_encoder.net[0][0].weight.detach().clone()
    key_before = model.key_encoder.net[0][0].weight.detach().clone()
    frames, masks = make_clips()
    for step in range(4):
        idx = torch.arange(step * 2, step * 2 + 2) % len(frames)
        logits = model(frames[idx, 0], masks[idx, 0], frames[idx, 1])
        loss = F.binary_cross_entropy_with_logits(logits, masks[idx, 1])
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    facts = {"value_encoder_changed": not torch.equal(value_before, model.value_encoder.net[0][0].weight),
             "key_encoder_changed": not torch.equal(key_before, model.key_encoder.net[0][0].weight)}
    return {}, facts

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
