import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class KWSConfig(PretrainedConfig):
    model_type = "tiny-kws"

    def __init__(self, hidden_size=16, num_labels=4, class_weights=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size, self.num_labels = hidden_size, num_labels
        self.class_weights = class_weights or [1.0] * num_labels


class KWSForAudioClassification(PreTrainedModel):
    config_class = KWSConfig

    def __init__(self, config):
        super().__init__(config)
        self.feature_encoder = nn.Sequential(nn.Conv1d(1, config.hidden_size, 8, stride=4), nn.GELU())
        self.encoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.register_buffer("class_weights", torch.tensor(config.class_weights, dtype=torch.float32))
        self.post_init()

    def forward(self, input_values, labels=None):
        feats = self.feature_encoder(input_values[:, None]).transpose(1, 2)
        out, _ = self.encoder(feats)
        logits = self.classifier(out.mean(1))
        loss = F.cross_entropy(logits, labels, weight=self.class_weights) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def inverse_frequency_weights(labels, n_cls):
    counts = np.bincount(labels.numpy(), minlength=n_cls).astype(np.float64)
    w = counts.sum() / (n_cls * np.maximum(counts, 1))
    return (w / w.mean()).tolist()


class LossHistory(TrainerCallback):
    def __init__(self):
        self.losses = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(np.asarray(logs["loss"])))


class Commands(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.wav = torch.randn(n, 64, generator=g)
        self.labels = torch.tensor([0] * 8 + [1] * 4 + [2] * 3 + [3] * 1)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_values": self.wav[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    data = Commands()
    config = KWSConfig(class_weights=inverse_frequency_weights(data.labels, 4))
    model = KWSForAudioClassification(config)
    w0 = model.feature_encoder[0].weight.detach().clone()
    history = LossHistory()
    args = TrainingArguments(output_dir="/tmp/kws", per_device_train_batch_size=4, num_train_epochs=2, learning_rate=2e-3,
                             logging_steps=1, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[history])
    trainer.train()
    facts = {"feature_encoder_changed": not torch.equal(w0, model.feature_encoder[0].weight),
             "class_weights_are_buffer": "class_weights" in dict(model.named_buffers())}
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
