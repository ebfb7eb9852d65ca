import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import (PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainerCallback,
                          TrainingArguments, get_linear_schedule_with_warmup)


class AudioClsConfig(PretrainedConfig):
    model_type = "tiny-audio-cls"

    def __init__(self, conv_dim=12, hidden_size=24, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.conv_dim, self.hidden_size = conv_dim, hidden_size


class FeatureEncoder(nn.Module):
    def __init__(self, conv_dim):
        super().__init__()
        self.conv_layers = nn.Sequential(nn.Conv1d(1, conv_dim, 10, stride=5), nn.GELU(),
                                         nn.Conv1d(conv_dim, conv_dim, 3, stride=2), nn.GELU())

    def forward(self, wav):
        return self.conv_layers(wav.unsqueeze(1)).transpose(1, 2)


class AudioClassifier(PreTrainedModel):
    config_class = AudioClsConfig
    main_input_name = "input_values"

    def __init__(self, config):
        super().__init__(config)
        self.feature_extractor = FeatureEncoder(config.conv_dim)
        self.projector = nn.Linear(config.conv_dim, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def freeze_feature_encoder(self):
        for param in self.feature_extractor.parameters():
            param.requires_grad = False

    def forward(self, input_values=None, labels=None):
        feats = self.feature_extractor(input_values)
        pooled = torch.tanh(self.projector(feats)).mean(dim=1)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GradNormLogger(TrainerCallback):
    def __init__(self):
        self.norms = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.norms.append(model.classifier.weight.grad.norm().item())


def make_clips(n=40, length=200):
    g = torch.Generator().manual_seed(67)
    labels = torch.randint(0, 4, (n,), generator=g)
    t = torch.arange(length) / 1000.0
    wav = torch.sin(2 * torch.pi * (50.0 + 40.0 * labels[:, None]) * t) + 0.2 * torch.randn(n, length, generator=g)
    return [{"input_values": wav[i], "labels": int(labels[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = AudioClassifier(AudioClsConfig())
    model.freeze_feature_encoder()
    optimizer = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=5e-3)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=2, num_training_steps=10)
    f0 = model.feature_extractor.conv_layers[0].weight.detach().clone()
    c0 = model.classifier.weight.detach().clone()
    logger = GradNormLogger()
    args = TrainingArguments(output_dir="tmp_audio", num_train_epochs=2, per_device_train_batch_size=8,
                             report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_clips(), optimizers=(optimizer, scheduler),
            callbacks=[logger]).train()
    return ({"model": model},
            {"classifier_changed": not torch.equal(c0, model.classifier.weight),
             "feature_encoder_changed": not torch.equal(f0, model.feature_extractor.conv_layers[0].weight),
             "classifier_grad_seen_every_step": len(logger.norms) == 10 and all(n > 0 for n in logger.norms)})

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
