import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class VideoTextConfig(PretrainedConfig):
    model_type = "tiny_video_text"

    def __init__(self, frame_dim=10, vocab=30, d_embed=8, init_temp=0.07, scale_dtype="float64", **kwargs):
        super().__init__(**kwargs)
        self.frame_dim, self.vocab, self.d_embed = frame_dim, vocab, d_embed
        self.init_temp, self.scale_dtype = init_temp, scale_dtype


class VideoTextRetriever(PreTrainedModel):
    config_class = VideoTextConfig

    def __init__(self, config):
        super().__init__(config)
        self.video_encoder = nn.Sequential(nn.Linear(config.frame_dim, 16), nn.GELU(), nn.Linear(16, config.d_embed))
        self.text_embed = nn.EmbeddingBag(config.vocab, 16)
        self.text_proj = nn.Linear(16, config.d_embed)
        init = torch.tensor(math.log(1.0 / config.init_temp))
        self.logit_scale = nn.Parameter(init).to(getattr(torch, config.scale_dtype))
        self.post_init()

    def forward(self, frames=None, text_ids=None, **kwargs):
        v = F.normalize(self.video_encoder(frames).mean(1), dim=-1)
        t = F.normalize(self.text_proj(self.text_embed(text_ids)), dim=-1)
        logits = self.logit_scale.exp() * v @ t.T
        labels = torch.arange(v.size(0))
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        return ModelOutput(loss=loss, logits=logits)


def clip_pairs(n=32):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        topic = int(torch.randint(0, 5, (), generator=g))
        frames = torch.randn(4, 10, generator=g) + topic
        out.append({"frames": frames, "text_ids": torch.randint(topic * 6, topic * 6 + 6, (5,), generator=g)})
    return out


def main():
    torch.manual_seed(0)
    model = VideoTextRetriever(VideoTextConfig())
    s0 = float(model.logit_scale)
    enc0 = model.video_encoder[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/vt", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=clip_pairs()).train()
    return {"logit_scale": model.logit_scale}, {
        "logit_scale_changed": float(model.logit_scale) != s0,
        "video_encoder_changed": not torch.equal(enc0, model.video_encoder[0].weight),
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
