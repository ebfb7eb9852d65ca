import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LoadForecaster(nn.Module):
    """Hourly electricity load: calendar + weather features -> next-hour load."""

    def __init__(self, n_features=5, hidden=24):
        super().__init__()
        self.input_proj = nn.Linear(n_features, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x, h=None):
        out, h = self.gru(torch.tanh(self.input_proj(x)), h)
        return self.head(out).squeeze(-1), h


class TBPTTForecaster(pl.LightningModule):
    def __init__(self, truncated_bptt_steps=12):
        super().__init__()
        self.model = LoadForecaster()
        self.truncated_bptt_steps = truncated_bptt_steps
        self.automatic_optimization = False

    def split_batch(self, x, y):
        for t in range(0, x.shape[1], self.truncated_bptt_steps):
            yield x[:, t:t + self.truncated_bptt_steps], y[:, t:t + self.truncated_bptt_steps]

    def training_step(self, batch, batch_idx):
        x, y = batch
        opt = self.optimizers()
        hiddens = None
        for split_x, split_y in self.split_batch(x, y):
            pred, hiddens = self.model(split_x, hiddens)
            loss = F.mse_loss(pred, split_y)
            opt.zero_grad()
            self.manual_backward(loss)
            torch.nn.utils.clip_grad_norm_(self.parameters(), 1.0)
            opt.step()
            self.log("train_loss", loss.item(), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def load_series(n=8, length=48):
    g = torch.Generator().manual_seed(0)
    hours = torch.arange(length).float()
    feats = torch.stack([torch.sin(2 * torch.pi * hours / 24).expand(n, -1), torch.cos(2 * torch.pi * hours / 24).expand(n, -1),
                         torch.randn(n, length, generator=g), torch.randn(n, length, generator=g), torch.rand(n, length, generator=g)], -1)
    load = feats[..., 0] * 0.5 + feats[..., 2] * 0.1
    return DataLoader(TensorDataset(feats, load), batch_size=4)


def main():
    pl.seed_everything(0)
    module = TBPTTForecaster()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, load_series())
    return {"forecaster": module}

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
