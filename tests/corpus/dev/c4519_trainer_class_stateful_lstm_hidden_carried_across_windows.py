import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = {
    "n_features": 3, "hidden": 24, "layers": 1, "window": 12, "horizon": 3, "batch": 4,
    "lr": 3e-3, "epochs": 2, "clip": 1.0,
}


class LoadForecaster(nn.Module):
    """Stateful LSTM for hourly electricity load: the series is streamed window by window."""

    def __init__(self, cfg):
        super().__init__()
        self.input_proj = nn.Linear(cfg["n_features"], cfg["hidden"])
        self.lstm = nn.LSTM(cfg["hidden"], cfg["hidden"], num_layers=cfg["layers"], batch_first=True)
        self.head = nn.Sequential(nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU(),
                                  nn.Linear(cfg["hidden"], cfg["horizon"]))

    def forward(self, x, state=None):
        out, state = self.lstm(F.relu(self.input_proj(x)), state)
        return self.head(out[:, -1]), state


def stream_windows(series, cfg):
    """Consecutive, non-overlapping windows of a batch of long series (batch stays aligned over time)."""
    T = series.shape[1]
    step = cfg["window"]
    for start in range(0, T - step - cfg["horizon"] + 1, step):
        x = series[:, start : start + step]
        y = series[:, start + step : start + step + cfg["horizon"], 0]
        yield x, y


class Trainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=0.5)
        self.state = None
        self.history = []

    def reset_state(self):
        self.state = None

    def training_step(self, x, y):
        pred, state = self.model(x, self.state)
        self.state = state
        loss = F.smooth_l1_loss(pred, y)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["clip"])
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def evaluate(self, series):
        self.model.eval()
        state, errors = None, []
        for x, y in stream_windows(series, self.cfg):
            pred, state = self.model(x, state)
            errors.append((pred - y).abs().mean().item())
        return sum(errors) / max(len(errors), 1)

    def fit(self, series, val_series=None):
        for epoch in range(self.cfg["epochs"]):
            self.model.train()
            self.reset_state()
            losses = [self.training_step(x, y) for x, y in stream_windows(series, self.cfg)]
            record = {"epoch": epoch, "train_loss": sum(losses) / len(losses)}
            if val_series is not None:
                record["val_mae"] = self.evaluate(val_series)
            self.history.append(record)
            self.scheduler.step()
        return self.history


def make_load_series(cfg, T=60):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(T).float()
    daily = torch.sin(2 * torch.pi * t / 24)[None] * (1 + 0.3 * torch.rand(cfg["batch"], 1, generator=g))
    temp = torch.cos(2 * torch.pi * t / 24)[None].expand(cfg["batch"], -1)
    hour = (t % 24 / 24)[None].expand(cfg["batch"], -1)
    load = daily + 0.05 * torch.randn(cfg["batch"], T, generator=g)
    return torch.stack([load, temp, hour], dim=-1)


def main():
    torch.manual_seed(0)
    model = LoadForecaster(CONFIG)
    trainer = Trainer(model, CONFIG)
    w0 = model.lstm.weight_hh_l0.detach().clone()
    series = make_load_series(CONFIG, T=84)
    trainer.fit(series[:, :60], val_series=series[:, 60:])
    return {"model": model}, {"lstm_changed": not torch.equal(w0, model.lstm.weight_hh_l0)}

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
