import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class GatedConvConfig(PretrainedConfig):
    model_type = "gated-conv-audio"

    def __init__(self, n_mels=8, channels=16, num_labels=4, **kwargs):
        super().__init__(**kwargs)
        self.n_mels, self.channels, self.num_labels = n_mels, channels, num_labels


class GatedConvBlock(nn.Module):
    """GLU-style gated 1D convolution over log-mel frames, with padded frames switched off."""

    def __init__(self, ch_in, ch_out):
        super().__init__()
        self.value = nn.Conv1d(ch_in, ch_out, 3, padding=1)
        self.gate = nn.Conv1d(ch_in, ch_out, 3, padding=1)

    def forward(self, x, frame_mask):
        gate = torch.sigmoid(self.gate(x))
        gate.mul_(frame_mask[:, None, :])  # silence padded frames
        return self.value(x) * gate


class GatedConvForAudioClassification(PreTrainedModel):
    config_class = GatedConvConfig

    def __init__(self, config):
        super().__init__(config)
        self.blocks = nn.ModuleList([GatedConvBlock(config.n_mels, config.channels),
                                     GatedConvBlock(config.channels, config.channels)])
        self.classifier = nn.Linear(config.channels, config.num_labels)
        self.post_init()

    def forward(self, input_features, attention_mask, labels=None):
        x, mask = input_features.transpose(1, 2), attention_mask.float()
        for block in self.blocks:
            x = block(x, mask)
        pooled = (x * mask[:, None]).sum(-1) / mask.sum(-1, keepdim=True)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class SpeechCommands(Dataset):
    def __init__(self, n=16, frames=12):
        g = torch.Generator().manual_seed(0)
        self.feats = torch.randn(n, frames, 8, generator=g)
        lengths = torch.randint(6, frames + 1, (n,), generator=g)
        self.mask = (torch.arange(frames)[None] < lengths[:, None]).long()
        self.labels = torch.randint(0, 4, (n,), generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_features": self.feats[i], "attention_mask": self.mask[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = GatedConvForAudioClassification(GatedConvConfig())
    args = TrainingArguments(output_dir="/tmp/gated", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=SpeechCommands())
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
