import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class AudioConfig(PretrainedConfig):
    model_type = "tiny-wav2vec2"

    def __init__(self, conv_dim=8, hidden=16, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.conv_dim, self.hidden = conv_dim, hidden


class Wav2Vec2ForAudioClassification(PreTrainedModel):
    config_class = AudioConfig
    main_input_name = "input_values"

    def __init__(self, config):
        super().__init__(config)
        self.feature_encoder = nn.Sequential(nn.Conv1d(1, config.conv_dim, 10, stride=5), nn.GELU())
        self.feature_projection = nn.Linear(config.conv_dim, config.hidden)
        self.context = nn.Linear(config.hidden, config.hidden)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self._freeze_features = False
        self.post_init()

    def freeze_feature_encoder(self):
        self._freeze_features = True

    def forward(self, input_values, labels=None):
        feats = self.feature_encoder(input_values.unsqueeze(1)).transpose(1, 2)
        if self._freeze_features:
            feats = feats.detach()
        h = torch.tanh(self.context(self.feature_projection(feats)))
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Clips(Dataset):
    def __init__(self, n=12, length=80):
        g = torch.Generator().manual_seed(0)
        self.wav = torch.randn(n, length, generator=g)
        self.labels = torch.randint(0, 3, (n,), generator=g).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_values": self.wav[i], "label": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = Wav2Vec2ForAudioClassification(AudioConfig())
    model.freeze_feature_encoder()
    f0, p0 = model.feature_encoder[0].weight.detach().clone(), model.feature_projection.weight.detach().clone()
    grads = {}

    class Probe(Trainer):
        def training_step(self, model, inputs, num_items_in_batch=None):
            out = super().training_step(model, inputs, num_items_in_batch)
            grads.update({n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None})
            return out

    args = TrainingArguments(output_dir="/tmp/c3232_out", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    Probe(model=model, args=args, train_dataset=Clips()).train()
    for n, p in model.named_parameters():
        p.grad = grads.get(n)
    facts = {"feature_encoder_changed": not torch.equal(f0, model.feature_encoder[0].weight),
             "projection_changed": not torch.equal(p0, model.feature_projection.weight)}
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
