import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"seq_len": 24, "pred_len": 6, "enc_in": 3, "d_model": 16, "moving_avg": 5, "heads": 2, "layers": 2,
       "lr": 1e-3, "epochs": 2, "batch": 8, "stop_trend_grad": True}


class MovingAvg(nn.Module):
    def __init__(self, kernel):
        super().__init__()
        self.kernel = kernel

    def forward(self, x):  # (B, L, C)
        front = x[:, :1].repeat(1, (self.kernel - 1) // 2, 1)
        end = x[:, -1:].repeat(1, (self.kernel - 1) // 2, 1)
        padded = torch.cat([front, x, end], dim=1)
        return F.avg_pool1d(padded.transpose(1, 2), self.kernel, stride=1).transpose(1, 2)


class SeriesDecomp(nn.Module):
    """Autoformer decomposition: trend = moving average, seasonal = residual."""

    def __init__(self, kernel, stop_trend_grad):
        super().__init__()
        self.moving_avg = MovingAvg(kernel)
        self.stop_trend_grad = stop_trend_grad

    def forward(self, x):
        trend = self.moving_avg(x)
        if self.stop_trend_grad:
            trend.requires_grad = False  # the trend path is a fixed smoother: keep it out of backprop
        return x - trend, trend


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, kernel, stop):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.decomp1, self.decomp2 = SeriesDecomp(kernel, stop), SeriesDecomp(kernel, stop)

    def forward(self, x):
        a, _ = self.attn(x, x, x, need_weights=False)
        x, _ = self.decomp1(x + a)
        x, _ = self.decomp2(x + self.ff(x))
        return x


class AutoformerLite(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.decomp = SeriesDecomp(cfg["moving_avg"], cfg["stop_trend_grad"])
        self.embed = nn.Linear(cfg["enc_in"], cfg["d_model"])
        self.layers = nn.ModuleList([EncoderLayer(cfg["d_model"], cfg["heads"], cfg["moving_avg"], cfg["stop_trend_grad"])
                                     for _ in range(cfg["layers"])])
        self.seasonal_head = nn.Linear(cfg["seq_len"] * cfg["d_model"], cfg["pred_len"] * cfg["enc_in"])
        self.trend_head = nn.Linear(cfg["seq_len"], cfg["pred_len"])
        self.cfg = cfg

    def forward(self, x):
        seasonal, trend = self.decomp(x)
        h = self.embed(seasonal)
        for layer in self.layers:
            h = layer(h)
        s = self.seasonal_head(h.flatten(1)).view(-1, self.cfg["pred_len"], self.cfg["enc_in"])
        t = self.trend_head(trend.transpose(1, 2)).transpose(1, 2)
        return s + t


def etth_like(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(cfg["seq_len"] + cfg["pred_len"]).float()
    slope = torch.rand(n, 1, cfg["enc_in"], generator=g) * 0.05
    series = slope * t[None, :, None] + torch.sin(t[None, :, None] / 2) + 0.05 * torch.randn(n, len(t), cfg["enc_in"], generator=g)
    return series[:, : cfg["seq_len"]], series[:, cfg["seq_len"]:]


def train(model, compiled, cfg):
    x, y = etth_like(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    for epoch in range(cfg["epochs"]):
        for i in range(0, len(x), cfg["batch"]):
            loss = F.mse_loss(compiled(x[i : i + cfg["batch"]]), y[i : i + cfg["batch"]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = AutoformerLite(CFG)
    compiled = torch.compile(model, backend="eager")
    train(model, compiled, CFG)
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
