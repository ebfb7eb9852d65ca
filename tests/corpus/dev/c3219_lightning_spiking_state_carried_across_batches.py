import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def surrogate_spike(v, threshold=1.0, slope=5.0):
    hard = (v > threshold).float()
    soft = torch.sigmoid(slope * (v - threshold))
    return hard + soft - soft.detach()


class LIFLayer(nn.Module):
    def __init__(self, n_in, n_out, tau=0.8):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)
        self.tau = tau

    def forward(self, x_seq, v):
        spikes = []
        for x in x_seq.unbind(1):
            v = self.tau * v + self.fc(x)
            s = surrogate_spike(v)
            v = v - s
            spikes.append(s)
        return torch.stack(spikes, 1), v


class StreamingSNN(pl.LightningModule):
    def __init__(self, n_in=10, n_hidden=16, n_cls=3):
        super().__init__()
        self.lif = LIFLayer(n_in, n_hidden)
        self.readout = nn.Linear(n_hidden, n_cls)
        self.state = None

    def training_step(self, batch, batch_idx):
        events, y = batch
        if self.state is None or self.state.size(0) != events.size(0):
            self.state = torch.zeros(events.size(0), self.lif.fc.out_features)
        spikes, self.state = self.lif(events, self.state)
        loss = F.cross_entropy(self.readout(spikes.mean(1)), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-3)


def event_stream(n=24, steps=6):
    g = torch.Generator().manual_seed(0)
    ev = (torch.rand(n, steps, 10, generator=g) < 0.3).float()
    y = torch.randint(0, 3, (n,), generator=g)
    return DataLoader(TensorDataset(ev, y), batch_size=8, shuffle=False)


def main():
    pl.seed_everything(0)
    model = StreamingSNN()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, event_stream())
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
