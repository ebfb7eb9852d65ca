import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, SequenceClassifierOutput


class W2VConfig(PretrainedConfig):
    model_type = "tiny-wav2vec2"

    def __init__(self, conv_dim=16, hidden=32, layers=2, adapter_dim=8, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.conv_dim, self.hidden, self.layers, self.adapter_dim = conv_dim, hidden, layers, adapter_dim


class FeatureEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(1, c, 10, stride=5), nn.GELU(), nn.Conv1d(c, c, 3, stride=2), nn.GELU())

    def forward(self, wav):
        return self.conv(wav.unsqueeze(1)).transpose(1, 2)


class BottleneckAdapter(nn.Module):
    def __init__(self, hidden, dim):
        super().__init__()
        self.down, self.up = nn.Linear(hidden, dim), nn.Linear(dim, hidden)

    def forward(self, x):
        return x + self.up(F.gelu(self.down(x)))


class Wav2Vec2WithAdapters(PreTrainedModel):
    config_class = W2VConfig

    def __init__(self, config):
        super().__init__(config)
        self.feature_extractor = FeatureEncoder(config.conv_dim)
        self.feature_projection = nn.Linear(config.conv_dim, config.hidden)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(config.hidden, 4, 64, dropout=0.0, batch_first=True)
                                    for _ in range(config.layers))
        self.adapters = [BottleneckAdapter(config.hidden, config.adapter_dim) for _ in range(config.layers)]
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def freeze_feature_encoder(self):
        for p in self.feature_extractor.parameters():
            p.requires_grad = False

    def freeze_base_model(self):
        for layer in self.layers:
            layer.requires_grad_(False)

    def forward(self, input_values, labels=None):
        h = self.feature_projection(self.feature_extractor(input_values))
        for layer, adapter in zip(self.layers, self.adapters):
            h = adapter(layer(h))
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class KeywordSpotting(Dataset):
    def __init__(self, n=24, length=400):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, 3, (n,), generator=g)
        t = torch.linspace(0, 1, length)
        self.wavs = torch.sin(2 * 3.14159 * (5 + 5 * self.labels[:, None]) * t) + 0.1 * torch.randn(n, length, generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_values": self.wavs[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = Wav2Vec2WithAdapters(W2VConfig())
    model.freeze_feature_encoder()
    model.freeze_base_model()
    ad0 = model.adapters[0].down.weight.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/w2v-adapters", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=KeywordSpotting()).train()
    return {"model": model}, {
        "adapter_changed": not torch.equal(ad0, model.adapters[0].down.weight),
        "classifier_changed": not torch.equal(cls0, model.classifier.weight),
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
