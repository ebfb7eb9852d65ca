import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class VideoConfig(PretrainedConfig):
    model_type = "tiny_video"

    def __init__(self, frame_dim=12, d_model=16, n_frames=6, num_labels=3, learned_freqs=True, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.frame_dim, self.d_model, self.n_frames, self.learned_freqs = frame_dim, d_model, n_frames, learned_freqs


class TemporalRotary(nn.Module):
    def __init__(self, dim, learned=True):
        super().__init__()
        inv = 1.0 / (100 ** (torch.arange(0, dim, 2).float() / dim))
        self.freqs = nn.Parameter(inv, requires_grad=learned)
        self.cached = None

    def angles(self, t):
        if self.cached is not None and self.cached.size(0) >= t:
            return self.cached[:t]
        pos = torch.arange(t, dtype=torch.float32)
        ang = pos[:, None] * self.freqs[None, :]
        self.cached = ang
        return ang

    def forward(self, x):
        ang = self.angles(x.size(1))
        x1, x2 = x[..., 0::2], x[..., 1::2]
        cos, sin = ang.cos(), ang.sin()
        return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class TemporalAttention(nn.Module):
    def __init__(self, d, learned):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.rotary = TemporalRotary(d, learned)
        self.out = nn.Linear(d, d)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return x + self.out(F.scaled_dot_product_attention(self.rotary(q), self.rotary(k), v))


class TinyVideoClassifier(PreTrainedModel):
    config_class = VideoConfig

    def __init__(self, config):
        super().__init__(config)
        self.frame_proj = nn.Linear(config.frame_dim, config.d_model)
        self.temporal = TemporalAttention(config.d_model, config.learned_freqs)
        self.classifier = nn.Linear(config.d_model, config.num_labels)
        self.post_init()

    def forward(self, frames=None, labels=None, **kwargs):
        h = self.temporal(self.frame_proj(frames))
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def clips(n=24, t=6, d=12):
    g = torch.Generator().manual_seed(0)
    return [{"frames": torch.randn(t, d, generator=g), "labels": torch.randint(0, 3, (), generator=g)} for _ in range(n)]


def main():
    torch.manual_seed(0)
    model = TinyVideoClassifier(VideoConfig())
    args = TrainingArguments(output_dir="/tmp/video", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=3e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=clips()).train()
    return {}

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
