import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class AgeConfig(PretrainedConfig):
    model_type = "age-regressor"

    def __init__(self, in_ch=3, width=8, max_age=9, **kwargs):
        super().__init__(**kwargs)
        self.in_ch, self.width, self.max_age = in_ch, width, max_age


class AgeRegressor(PreTrainedModel):
    config_class = AgeConfig
    main_input_name = "pixel_values"

    def __init__(self, config):
        super().__init__(config)
        self.backbone = nn.Sequential(nn.Conv2d(config.in_ch, config.width, 3, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.regressor = nn.Linear(4 * config.width, 1)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        age = torch.sigmoid(self.regressor(self.backbone(pixel_values))).squeeze(-1) * self.config.max_age
        return SequenceClassifierOutput(logits=age)


class OrdinalTrainer(Trainer):
    """Ages are integer buckets, so the loss compares the rounded prediction with the bucket."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        bucket = torch.round(outputs.logits)
        loss = F.smooth_l1_loss(bucket, labels.float())
        return (loss, outputs) if return_outputs else loss


class FaceAges(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, 8, 8, generator=g)
        self.y = torch.randint(0, 10, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"pixel_values": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = AgeRegressor(AgeConfig())
    w0 = model.regressor.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/age", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    trainer = OrdinalTrainer(model=model, args=args, train_dataset=FaceAges())
    trainer.train()
    batch = {"pixel_values": FaceAges().x[:8], "labels": FaceAges().y[:8]}
    trainer.compute_loss(model, batch).backward()
    return ({"model": model}, {"regressor_changed": not torch.equal(w0, model.regressor.weight)})

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
