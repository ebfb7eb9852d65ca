import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class SpeechConfig(PretrainedConfig):
    model_type = "tiny-speech"

    def __init__(self, conv_dim=16, hidden=24, num_labels=5, mask_prob=0.3, **kw):
        super().__init__(**kw)
        self.conv_dim, self.hidden, self.num_labels, self.mask_prob = conv_dim, hidden, num_labels, mask_prob


class FeatureEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.conv0 = nn.Conv1d(1, cfg.conv_dim, 10, stride=5)
        self.conv1 = nn.Conv1d(cfg.conv_dim, cfg.conv_dim, 3, stride=2)
        self.act = nn.ReLU()

    def forward(self, wav):
        return self.act(self.conv1(self.act(self.conv0(wav[:, None]))))


def apply_time_mask(hidden, mask_emb, prob, generator):
    b, t, _ = hidden.shape
    mask = torch.rand(b, t, generator=generator) < prob
    hidden[mask] = mask_emb.to(hidden.dtype)
    return hidden, mask


class TinySpeechForFrameClassification(PreTrainedModel):
    config_class = SpeechConfig
    base_model_prefix = ""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.feature_encoder = FeatureEncoder(cfg)
        self.masked_spec_embed = nn.Parameter(torch.rand(cfg.conv_dim))
        self.proj = nn.Linear(cfg.conv_dim, cfg.hidden)
        self.encoder = nn.GRU(cfg.hidden, cfg.hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * cfg.hidden, cfg.num_labels)
        self.mask_gen = torch.Generator().manual_seed(1)

    def forward(self, input_values, labels=None):
        feats = self.feature_encoder(input_values)
        hidden = feats.transpose(1, 2)
        if self.training:
            hidden, _ = apply_time_mask(hidden, self.masked_spec_embed, self.config.mask_prob, self.mask_gen)
        out, _ = self.encoder(self.proj(hidden))
        logits = self.classifier(out)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels[:, :logits.size(1)].reshape(-1))
        return {"loss": loss, "logits": logits}


class FrameDataset(torch.utils.data.Dataset):
    def __init__(self, n=12, samples=200):
        g = torch.Generator().manual_seed(0)
        self.wav = torch.randn(n, samples, generator=g)
        self.labels = torch.randint(0, 5, (n, 20), generator=g)

    def __len__(self):
        return len(self.wav)

    def __getitem__(self, i):
        return {"input_values": self.wav[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = TinySpeechForFrameClassification(SpeechConfig())
    args = TrainingArguments(output_dir="/tmp/c2512", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=FrameDataset())
    trainer.train()
    return {"model": model}

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
