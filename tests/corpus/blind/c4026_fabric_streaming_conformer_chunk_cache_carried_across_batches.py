import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class StreamingConvModule(nn.Module):
    def __init__(self, d, kernel=3):
        super().__init__()
        self.pw_in = nn.Linear(d, d)
        self.dw = nn.Conv1d(d, d, kernel, groups=d)
        self.pw_out = nn.Linear(d, d)
        self.lookback = kernel - 1

    def forward(self, x, cache):
        h = self.pw_in(x).transpose(1, 2)
        h = torch.cat([cache, h], dim=2)
        new_cache = h[:, :, -self.lookback:]
        return self.pw_out(F.silu(self.dw(h)).transpose(1, 2)), new_cache


class StreamingEncoder(nn.Module):
    def __init__(self, n_mels=8, d=16, vocab=6):
        super().__init__()
        self.inp = nn.Linear(n_mels, d)
        self.conv = StreamingConvModule(d)
        self.ctc_head = nn.Linear(d, vocab)
        self.cache = None

    def reset_cache(self, batch_size):
        self.cache = torch.zeros(batch_size, self.inp.out_features, self.conv.lookback)

    def forward(self, chunk):
        x = self.inp(chunk)
        y, self.cache = self.conv(x, self.cache)
        return self.ctc_head(x + y).log_softmax(-1)


def train(fabric, model, optimizer, loader, epochs=1):
    model.reset_cache(batch_size=8)
    for _ in range(epochs):
        for chunk, targets, target_lens in loader:
            log_probs = model(chunk).transpose(0, 1)
            in_lens = torch.full((chunk.size(0),), chunk.size(1), dtype=torch.long)
            loss = F.ctc_loss(log_probs, targets, in_lens, target_lens, zero_infinity=True)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = StreamingEncoder()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(net, optimizer)
    g = torch.Generator().manual_seed(0)
    chunks = torch.randn(32, 6, 8, generator=g)
    targets = torch.randint(1, 6, (32, 2), generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(chunks, targets, torch.full((32,), 2)), batch_size=8))
    train(fabric, net, optimizer, loader)
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
