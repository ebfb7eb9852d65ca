import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class HistoryEncoder(nn.Module):
    def __init__(self, n_feat=3, hidden=24, latent=8):
        super().__init__()
        self.gru = nn.GRU(n_feat, hidden, batch_first=True)
        self.to_latent = nn.Linear(hidden, latent)

    def forward(self, x):
        _, h = self.gru(x)
        return torch.tanh(self.to_latent(h[-1]))


class HorizonDecoder(nn.Module):
    def __init__(self, latent=8, horizon=6, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.GELU(), nn.Linear(hidden, horizon))

    def forward(self, z):
        return self.net(z)


class CompressedForecaster(nn.Module):
    """Edge forecaster: the latent is sent over a low-bandwidth link, so it lives on a 4-bit grid."""

    def __init__(self, levels=7):
        super().__init__()
        self.encoder = HistoryEncoder()
        self.decoder = HorizonDecoder()
        self.levels = levels

    def quantize(self, z):
        return torch.round(z * self.levels) / self.levels

    def forward(self, history):
        z = self.encoder(history)
        return self.decoder(self.quantize(z))


def make_series(n=64, lookback=16, horizon=6):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(lookback + horizon).float()
    phase = torch.rand(n, 1, generator=g) * 6.28
    base = torch.sin(0.4 * t + phase) + 0.05 * torch.randn(n, lookback + horizon, generator=g)
    feats = torch.stack([base[:, :lookback], torch.cos(0.4 * t[:lookback] + phase),
                         torch.full((n, lookback), 0.1)], dim=-1)
    return TensorDataset(feats, base[:, lookback:])


def train(model, loader, optimizer, scheduler, accelerator, epochs=2):
    for epoch in range(epochs):
        model.train()
        for history, target in loader:
            optimizer.zero_grad()
            pred = model(history)
            loss = F.smooth_l1_loss(pred, target)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = CompressedForecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)
    loader = DataLoader(make_series(), batch_size=16, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    enc0 = model.encoder.to_latent.weight.detach().clone()
    dec0 = model.decoder.net[0].weight.detach().clone()
    train(model, loader, optimizer, scheduler, accelerator)
    facts = {"encoder_changed": not torch.equal(enc0, model.encoder.to_latent.weight),
             "decoder_changed": not torch.equal(dec0, model.decoder.net[0].weight)}
    return {"model": model}, facts

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
