import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class StationConfig(PretrainedConfig):
    model_type = "station-mtl"

    def __init__(self, n_inputs=16, hidden=32, tasks=("temperature", "rain"), **kw):
        super().__init__(**kw)
        self.n_inputs, self.hidden, self.tasks = n_inputs, hidden, list(tasks)


class StationMultiTask(PreTrainedModel):
    """Weather-station nowcaster: one shared encoder, a regression head (temperature) and a rain classifier,
    balanced with homoscedastic uncertainty (Kendall et al.)."""

    config_class = StationConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Sequential(nn.Linear(config.n_inputs, config.hidden), nn.GELU(),
                                     nn.Linear(config.hidden, config.hidden), nn.GELU())
        self.temperature_head = nn.Linear(config.hidden, 1)
        self.rain_head = nn.Linear(config.hidden, 2)
        self.log_vars = nn.Parameter(torch.zeros(len(config.tasks)))
        self.post_init()

    def forward(self, features, temperature=None, rain=None):
        z = self.encoder(features)
        return ModelOutput(temperature=self.temperature_head(z).squeeze(-1), rain_logits=self.rain_head(z))


def task_losses(outputs, temperature, rain):
    return [F.mse_loss(outputs["temperature"], temperature), F.cross_entropy(outputs["rain_logits"], rain)]


class UncertaintyWeightedTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        temperature, rain = inputs.pop("temperature"), inputs.pop("rain")
        outputs = model(**inputs)
        losses = task_losses(outputs, temperature, rain)
        log_vars = [float(s) for s in model.log_vars]
        loss = sum(math.exp(-s) * l + s for s, l in zip(log_vars, losses))
        return (loss, outputs) if return_outputs else loss


class StationDataset(torch.utils.data.Dataset):
    def __init__(self, n=64, d=16):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, d, generator=g)
        self.temp = 5 * self.x[:, 0] + self.x[:, 1]
        self.rain = (self.x[:, 2] > 0.3).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "temperature": self.temp[i], "rain": self.rain[i]}


def main():
    torch.manual_seed(0)
    model = StationMultiTask(StationConfig())
    lv0 = model.log_vars.detach().clone()
    enc0 = model.encoder[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/station", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=1e-2, remove_unused_columns=False, report_to="none")
    UncertaintyWeightedTrainer(model=model, args=args, train_dataset=StationDataset()).train()
    return {"model": model}, {
        "log_vars_changed": not torch.equal(lv0, model.log_vars.detach()),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
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
