import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class DualEncoderConfig(PretrainedConfig):
    model_type = "tiny-clip"

    def __init__(self, image_dim=24, vocab_size=30, embed_dim=16, logit_scale_init=math.log(1 / 0.07), **kw):
        super().__init__(**kw)
        self.image_dim, self.vocab_size, self.embed_dim = image_dim, vocab_size, embed_dim
        self.logit_scale_init = logit_scale_init


class TinyCLIP(PreTrainedModel):
    config_class = DualEncoderConfig

    def __init__(self, config):
        super().__init__(config)
        self.vision = nn.Sequential(nn.Linear(config.image_dim, 32), nn.GELU(), nn.Linear(32, 32))
        self.token_embed = nn.EmbeddingBag(config.vocab_size, 32, mode="mean")
        self.visual_projection = nn.Linear(32, config.embed_dim, bias=False)
        self.text_projection = nn.Linear(32, config.embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(config.logit_scale_init))
        self.post_init()

    def forward(self, pixel_values, input_ids):
        image_embeds = F.normalize(self.visual_projection(self.vision(pixel_values)), dim=-1)
        text_embeds = F.normalize(self.text_projection(self.token_embed(input_ids)), dim=-1)
        logit_scale = torch.clamp(self.logit_scale.exp(), max=100)
        logits_per_image = logit_scale * image_embeds @ text_embeds.t()
        return ModelOutput(logits_per_image=logits_per_image, logits_per_text=logits_per_image.t())


class ContrastiveTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(pixel_values=inputs["pixel_values"], input_ids=inputs["input_ids"])
        labels = torch.arange(outputs["logits_per_image"].shape[0])
        loss = (F.cross_entropy(outputs["logits_per_image"], labels) +
                F.cross_entropy(outputs["logits_per_text"], labels)) / 2
        self.log({"temperature": 1.0 / model.logit_scale.exp().item()})
        return (loss, outputs) if return_outputs else loss


def make_pairs(n=32):
    g = torch.Generator().manual_seed(0)
    concept = torch.randint(0, 6, (n,), generator=g)
    images = torch.randn(6, 24, generator=g)[concept] + 0.3 * torch.randn(n, 24, generator=g)
    tokens = torch.stack([concept * 4 + torch.randint(0, 4, (5,), generator=g) for concept in concept.tolist()])
    return [{"pixel_values": images[i], "input_ids": tokens[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = TinyCLIP(DualEncoderConfig())
    s0 = model.logit_scale.detach().clone()
    w0 = model.visual_projection.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/tiny-clip", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none", remove_unused_columns=False)
    ContrastiveTrainer(model=model, args=args, train_dataset=make_pairs()).train()
    return ({"model": model},
            {"logit_scale_changed": not torch.equal(s0, model.logit_scale.detach()),
             "projection_changed": not torch.equal(w0, model.visual_projection.weight.detach())})

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
