import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ConvLSTMCell(nn.Module):
    def __init__(self, cin, hidden, k=3):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(cin + hidden, 4 * hidden, k, padding=k // 2)

    def forward(self, x, state):
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h], 1)).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class NowcastNet(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.encoder = nn.Conv2d(1, hidden, 3, padding=1)
        self.cell = ConvLSTMCell(hidden, hidden)
        self.decoder = nn.Conv2d(hidden, 1, 1)
        self.hidden = hidden

    def init_state(self, batch, h, w):
        z = torch.zeros(batch, self.hidden, h, w)
        return z, z.clone()

    def forward(self, frames, state=None):
        b, t, _, h, w = frames.shape
        if state is None:
            state = self.init_state(b, h, w)
        outs = []
        for i in range(t):
            state = self.cell(F.relu(self.encoder(frames[:, i])), state)
            outs.append(F.softplus(self.decoder(state[0])))
        return torch.stack(outs, 1), state


def radar_chunks(total=24, chunk=4, size=8):
    """One long radar-reflectivity sequence cut into consecutive chunks (truncated BPTT)."""
    g = torch.Generator().manual_seed(0)
    seq = torch.rand(total + 1, 1, size, size, generator=g).cumsum(0) / 10
    x = torch.stack([seq[i:i + chunk] for i in range(0, total, chunk)])
    y = torch.stack([seq[i + 1:i + chunk + 1] for i in range(0, total, chunk)])
    return DataLoader(TensorDataset(x.unsqueeze(1).flatten(0, 1)[:, None].squeeze(1), y), batch_size=1, shuffle=False)


def train_one_epoch(model, loader, optimizer, accelerator, cfg):
    state = None
    for frames, target in loader:
        pred, new_state = model(frames, state)
        loss = F.mse_loss(pred, target) + cfg["csi_weight"] * F.l1_loss(pred, target)
        optimizer.zero_grad()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), cfg["max_norm"])
        optimizer.step()
        state = new_state


def main():
    set_seed(0)
    cfg = {"csi_weight": 0.1, "max_norm": 1.0}
    accelerator = Accelerator()
    model = NowcastNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, radar_chunks())
    gates0 = model.cell.gates.weight.detach().clone()
    train_one_epoch(model, loader, optimizer, accelerator, cfg)
    return {"model": model}, {"cell_changed": not torch.equal(gates0, model.cell.gates.weight)}

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
