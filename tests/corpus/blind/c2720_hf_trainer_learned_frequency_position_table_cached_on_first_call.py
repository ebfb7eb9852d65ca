import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class PatchConfig(PretrainedConfig):
    model_type = "token-learner-tiny"

    def __init__(self, patch_dim=6, hidden=16, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.patch_dim, self.hidden = patch_dim, hidden


class LearnedSinusoidalPosition(nn.Module):
    """Sinusoidal position table with learnable frequency scale, built lazily for the first sequence length."""

    def __init__(self, dim):
        super().__init__()
        self.log_freq_scale = nn.Parameter(torch.zeros(1))
        self.dim = dim
        self.table = None

    def build(self, length):
        pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
        freqs = torch.exp(-math.log(1e4) * torch.arange(0, self.dim, 2) / self.dim) * self.log_freq_scale.exp()
        return torch.cat([torch.sin(pos * freqs), torch.cos(pos * freqs)], dim=-1)

    def forward(self, x):
        if self.table is None or self.table.size(0) != x.size(1):
            self.table = self.build(x.size(1))
        return x + self.table


class TokenClassifier(PreTrainedModel):
    config_class = PatchConfig

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(config.patch_dim, config.hidden)
        self.pos = LearnedSinusoidalPosition(config.hidden)
        self.mix = nn.Linear(config.hidden, config.hidden)
        self.head = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, patches, labels=None):
        h = torch.relu(self.mix(self.pos(self.proj(patches))))
        logits = self.head(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Patches(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 5, 6, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"patches": self.x[i], "label": int(self.x[i, :, 0].sum() > 0)}


def main():
    model = TokenClassifier(PatchConfig())
    args = TrainingArguments(output_dir="/tmp/c2720", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=Patches()).train()
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
