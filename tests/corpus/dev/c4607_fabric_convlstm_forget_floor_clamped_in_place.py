import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

HPARAMS = {"channels": 1, "hidden": [8, 8], "kernel": 3, "frames_in": 4, "frames_out": 3,
           "size": 16, "lr": 1e-3, "forget_floor": 0.05, "epochs": 2}


def apply_forget_floor(f, floor):
    """Never let a cell forget more than (1 - floor) of its memory in one step."""
    return f.clamp_(min=floor)


class ConvLSTMCell(nn.Module):
    def __init__(self, in_ch, hid_ch, kernel, forget_floor):
        super().__init__()
        self.hid_ch = hid_ch
        self.forget_floor = forget_floor
        self.gates = nn.Conv2d(in_ch + hid_ch, 4 * hid_ch, kernel, padding=kernel // 2)

    def forward(self, x, state):
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
        f = apply_forget_floor(f, self.forget_floor)
        c = f * c + i * torch.tanh(g)
        h = o * torch.tanh(c)
        return h, c

    def init_state(self, x):
        B, _, H, W = x.shape
        z = x.new_zeros(B, self.hid_ch, H, W)
        return z, z.clone()


class ConvLSTMForecaster(nn.Module):
    def __init__(self, hp):
        super().__init__()
        chans = [hp["channels"]] + hp["hidden"]
        self.cells = nn.ModuleList(ConvLSTMCell(chans[k], chans[k + 1], hp["kernel"], hp["forget_floor"])
                                   for k in range(len(hp["hidden"])))
        self.head = nn.Conv2d(hp["hidden"][-1], hp["channels"], 1)
        self.frames_out = hp["frames_out"]

    def step(self, frame, states):
        x, new_states = frame, []
        for cell, st in zip(self.cells, states):
            h, c = cell(x, st)
            new_states.append((h, c))
            x = h
        return torch.sigmoid(self.head(x)), new_states

    def forward(self, context):
        states = [cell.init_state(context[:, 0]) for cell in self.cells]
        for t in range(context.size(1)):
            pred, states = self.step(context[:, t], states)
        preds = [pred]
        for _ in range(self.frames_out - 1):
            pred, states = self.step(pred, states)
            preds.append(pred)
        return torch.stack(preds, dim=1)


def moving_square_clips(hp, n=8):
    g = torch.Generator().manual_seed(0)
    T = hp["frames_in"] + hp["frames_out"]
    clips = torch.zeros(n, T, 1, hp["size"], hp["size"])
    for b in range(n):
        x, y = torch.randint(0, hp["size"] - 4, (2,), generator=g).tolist()
        for t in range(T):
            xx = (x + t) % (hp["size"] - 4)
            clips[b, t, 0, y:y + 4, xx:xx + 4] = 1.0
    return clips


def train(fabric, model, optimizer, loader, hp):
    model.train()
    for epoch in range(hp["epochs"]):
        for (clip,) in loader:
            context, future = clip[:, :hp["frames_in"]], clip[:, hp["frames_in"]:]
            pred = model(context)
            loss = F.binary_cross_entropy(pred, future)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            fabric.log("train/bce", loss.item())


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = ConvLSTMForecaster(HPARAMS)
    optimizer = torch.optim.Adam(model.parameters(), lr=HPARAMS["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(moving_square_clips(HPARAMS)), batch_size=4))
    gates0 = model.module.cells[0].gates.weight.detach().clone()
    train(fabric, model, optimizer, loader, HPARAMS)
    return {"model": model.module}, {
        "gates_changed": not torch.equal(gates0, model.module.cells[0].gates.weight),
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
