import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class SpeakerConfig(PretrainedConfig):
    model_type = "tiny-ecapa"

    def __init__(self, n_mels=20, channels=32, emb_dim=24, num_speakers=6, margin=0.2, scale=16.0, **kw):
        super().__init__(num_labels=num_speakers, **kw)
        self.n_mels, self.channels, self.emb_dim = n_mels, channels, emb_dim
        self.margin, self.scale = margin, scale


class AdditiveAngularMargin(nn.Module):
    def __init__(self, emb_dim, n_classes, margin, scale):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.05)
        self.margin, self.scale = margin, scale

    def forward(self, emb, labels):
        cos = F.linear(F.normalize(emb), F.normalize(self.weight)).clamp(-1 + 1e-6, 1 - 1e-6)
        theta = torch.acos(cos)
        target = torch.cos(theta + self.margin)
        hit = F.one_hot(labels, cos.size(1)).bool()
        cos[hit] = target[hit]
        return cos * self.scale


class SpeakerEncoder(PreTrainedModel):
    config_class = SpeakerConfig

    def __init__(self, config):
        super().__init__(config)
        c = config.channels
        self.frontend = nn.Sequential(
            nn.Conv1d(config.n_mels, c, 5, padding=2), nn.BatchNorm1d(c), nn.ReLU(),
            nn.Conv1d(c, c, 3, padding=2, dilation=2), nn.BatchNorm1d(c), nn.ReLU())
        self.attention = nn.Conv1d(c, 1, 1)
        self.embedding = nn.Linear(2 * c, config.emb_dim)
        self.aam = AdditiveAngularMargin(config.emb_dim, config.num_labels, config.margin, config.scale)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Conv1d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")

    def pool(self, h):
        w = torch.softmax(self.attention(h), dim=-1)
        mu = (h * w).sum(-1)
        sd = ((h ** 2 * w).sum(-1) - mu ** 2).clamp_min(1e-5).sqrt()
        return torch.cat([mu, sd], dim=1)

    def forward(self, input_features, labels=None):
        emb = self.embedding(self.pool(self.frontend(input_features)))
        if labels is None:
            return SequenceClassifierOutput(logits=F.normalize(emb))
        logits = self.aam(emb, labels)
        return SequenceClassifierOutput(loss=F.cross_entropy(logits, labels), logits=logits)


class Utterances(Dataset):
    def __init__(self, n=24, frames=30, n_mels=20, speakers=6):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, speakers, (n,), generator=g)
        centers = torch.randn(speakers, n_mels, 1, generator=g)
        self.feats = centers[self.labels] + 0.5 * torch.randn(n, n_mels, frames, generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_features": self.feats[i], "label": int(self.labels[i])}


def main():
    torch.manual_seed(0)
    model = SpeakerEncoder(SpeakerConfig())
    args = TrainingArguments(output_dir="/tmp/c3307_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-3, warmup_steps=1, report_to="none")
    w0 = model.aam.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=Utterances()).train()
    return {"model": model}, {"aam_weight_changed": not torch.equal(w0, model.aam.weight)}

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
