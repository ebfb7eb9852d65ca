import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import (PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainerCallback,
                          TrainingArguments)


class AudioConfig(PretrainedConfig):
    model_type = "tiny-audio-cls"

    def __init__(self, n_mels=16, hidden=32, num_labels=4, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.n_mels, self.hidden = n_mels, hidden


class AudioEncoder(nn.Module):
    def __init__(self, n_mels, hidden):
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, hidden, 3, padding=1)
        self.conv2 = nn.Conv1d(hidden, hidden, 3, stride=2, padding=1)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, mel):
        h = F.gelu(self.conv2(F.gelu(self.conv1(mel))))
        return self.norm(h.transpose(1, 2))


class AudioClassifier(PreTrainedModel):
    config_class = AudioConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = AudioEncoder(config.n_mels, config.hidden)
        self.projector = nn.Linear(config.hidden, config.hidden)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def freeze_feature_encoder(self):
        for p in self.encoder.parameters():
            p.requires_grad = False

    def forward(self, input_values, labels=None):
        pooled = torch.tanh(self.projector(self.encoder(input_values))).mean(dim=1)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class UnfreezeEncoderCallback(TrainerCallback):
    """Warm up the new head first, then fine-tune the pretrained encoder too."""

    def __init__(self, unfreeze_at_epoch=1):
        self.unfreeze_at_epoch = unfreeze_at_epoch

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if state.epoch is not None and state.epoch >= self.unfreeze_at_epoch:
            for p in model.encoder.parameters():
                p.requires_grad = True


def make_dataset(n=32):
    g = torch.Generator().manual_seed(0)
    return [{"input_values": torch.randn(16, 20, generator=g), "label": i % 4} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = AudioClassifier(AudioConfig())
    model.freeze_feature_encoder()
    enc0 = model.encoder.conv1.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/audio-unfreeze", per_device_train_batch_size=8, num_train_epochs=3,
                             learning_rate=1e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset(), callbacks=[UnfreezeEncoderCallback()])
    trainer.train()
    in_opt = any(p is model.encoder.conv1.weight for g in trainer.optimizer.param_groups for p in g["params"])
    return ({"model": model},
            {"encoder_requires_grad": model.encoder.conv1.weight.requires_grad, "encoder_in_optimizer": in_opt,
             "encoder_changed": not torch.equal(enc0, model.encoder.conv1.weight.detach())})

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
