import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class WeatherConfig(PretrainedConfig):
    model_type = "tiny_weather"

    def __init__(self, n_vars=3, grid=8, hidden=16, clim_momentum=0.9, anomaly_weight=0.5, **kwargs):
        super().__init__(**kwargs)
        self.n_vars, self.grid, self.hidden = n_vars, grid, hidden
        self.clim_momentum, self.anomaly_weight = clim_momentum, anomaly_weight


class AFNOBlock(nn.Module):
    def __init__(self, ch, modes):
        super().__init__()
        self.modes = modes
        self.spectral = nn.Parameter(torch.randn(ch, modes, modes, dtype=torch.cfloat) * 0.05)
        self.mlp = nn.Sequential(nn.Conv2d(ch, 2 * ch, 1), nn.GELU(), nn.Conv2d(2 * ch, ch, 1))

    def forward(self, x):
        xf = torch.fft.rfft2(x)
        out = torch.zeros_like(xf)
        out[:, :, :self.modes, :self.modes] = xf[:, :, :self.modes, :self.modes] * self.spectral
        x = x + torch.fft.irfft2(out, s=x.shape[-2:])
        return x + self.mlp(x)


class TinyForecastModel(PreTrainedModel):
    config_class = WeatherConfig

    def __init__(self, config):
        super().__init__(config)
        self.lift = nn.Conv2d(config.n_vars, config.hidden, 1)
        self.block = AFNOBlock(config.hidden, 3)
        self.proj = nn.Conv2d(config.hidden, config.n_vars, 1)
        self.climatology = torch.zeros(config.n_vars, config.grid, config.grid)
        self.post_init()

    def update_climatology(self, pred):
        m = self.config.clim_momentum
        self.climatology = m * self.climatology + (1 - m) * pred.mean(0)
        return self.climatology

    def forward(self, state=None, target=None):
        pred = state + self.proj(self.block(F.gelu(self.lift(state))))
        loss = None
        if target is not None:
            clim = self.update_climatology(pred)
            anomaly = F.mse_loss(pred - clim, target - clim.mean())
            loss = F.mse_loss(pred, target) + self.config.anomaly_weight * anomaly
        return ModelOutput(loss=loss, prediction=pred)


def era5_like(n=16, n_vars=3, grid=8):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        state = torch.randn(n_vars, grid, grid, generator=g)
        rows.append({"state": state, "target": torch.roll(state, 1, dims=-1) * 0.9})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyForecastModel(WeatherConfig())
    lift0 = model.lift.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/afno", per_device_train_batch_size=4, num_train_epochs=2,
                             learning_rate=1e-3, max_grad_norm=1.0, report_to="none")
    Trainer(model=model, args=args, train_dataset=era5_like()).train()
    return {"model": model}, {"lift_changed": not torch.equal(lift0, model.lift.weight)}

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
