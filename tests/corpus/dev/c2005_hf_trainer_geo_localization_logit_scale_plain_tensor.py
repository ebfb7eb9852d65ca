import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class GeoMatchConfig(PretrainedConfig):
    model_type = "geo-match"

    def __init__(self, in_channels=3, hidden_size=16, init_temperature=0.07, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.hidden_size, self.init_temperature = in_channels, hidden_size, init_temperature


class ViewEncoder(nn.Module):
    def __init__(self, c_in, dim):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(c_in, 8, 3, stride=2, padding=1), nn.GELU(),
                                  nn.Conv2d(8, dim, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return F.normalize(self.proj(self.conv(x)), dim=-1)


class GeoMatchModel(PreTrainedModel):
    """Street-view <-> satellite retrieval with a symmetric InfoNCE loss (Sample4Geo style)."""

    config_class = GeoMatchConfig

    def __init__(self, config):
        super().__init__(config)
        self.ground = ViewEncoder(config.in_channels, config.hidden_size)
        self.aerial = ViewEncoder(config.in_channels, config.hidden_size)
        self.logit_scale = torch.ones([]) * math.log(1 / config.init_temperature)
        self.post_init()

    def forward(self, ground_pixels, aerial_pixels):
        g, a = self.ground(ground_pixels), self.aerial(aerial_pixels)
        logits = self.logit_scale.exp() * g @ a.t()
        target = torch.arange(len(g))
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
        return ModelOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    ground = torch.randn(32, 3, 16, 16)
    aerial = ground.flip(-1) + 0.3 * torch.randn(32, 3, 16, 16)
    data = [{"ground_pixels": ground[i], "aerial_pixels": aerial[i]} for i in range(32)]
    model = GeoMatchModel(GeoMatchConfig())
    scale0 = float(model.logit_scale)
    args = TrainingArguments(output_dir="/tmp/geo-match", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, warmup_ratio=0.1, report_to="none")
    Trainer(model=model, args=args, train_dataset=data).train()
    model(ground[:8], aerial[:8])["loss"].backward()
    return ({"model": model, "logit_scale": model.logit_scale},
            {"temperature_learned": float(model.logit_scale) != scale0})

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
