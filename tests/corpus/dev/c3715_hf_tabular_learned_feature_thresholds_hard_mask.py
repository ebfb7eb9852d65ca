import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TabularConfig(PretrainedConfig):
    model_type = "threshold_tabular"

    def __init__(self, n_features=6, hidden=16, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.n_features = n_features
        self.hidden = hidden


class ThresholdGate(nn.Module):
    """Learned per-feature cut points (like a soft decision stump layer) ahead of the MLP."""

    def __init__(self, n_features):
        super().__init__()
        self.thresholds = nn.Parameter(torch.full((n_features,), 0.25))

    def forward(self, x):
        fired = (x > self.thresholds).float()
        return torch.cat([x * fired, fired], dim=-1)


class ThresholdTabularModel(PreTrainedModel):
    config_class = TabularConfig

    def __init__(self, config):
        super().__init__(config)
        self.gate = ThresholdGate(config.n_features)
        self.mlp = nn.Sequential(nn.Linear(2 * config.n_features, config.hidden), nn.ReLU(),
                                 nn.Linear(config.hidden, config.num_labels))
        self.post_init()

    def forward(self, features, labels=None):
        logits = self.mlp(self.gate(features))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TabularDataset(torch.utils.data.Dataset):
    def __init__(self, n=64, d=6):
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(n, d, generator=g)
        self.y = ((self.x[:, 0] > 0.8) | (self.x[:, 3] > 0.1)).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"features": self.x[i], "label": int(self.y[i])}


def main():
    torch.manual_seed(0)
    model = ThresholdTabularModel(TabularConfig())
    thr0 = model.gate.thresholds.detach().clone()
    mlp0 = model.mlp[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/thr", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=5e-2, lr_scheduler_type="constant", report_to="none")
    Trainer(model=model, args=args, train_dataset=TabularDataset()).train()
    return {"mlp": model.mlp}, {
        "thresholds_changed": not torch.equal(thr0, model.gate.thresholds),
        "mlp_changed": not torch.equal(mlp0, model.mlp[0].weight),
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
