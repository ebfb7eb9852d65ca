import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import ModelOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class DualEncoderConfig(PretrainedConfig):
    model_type = "tiny-dual-encoder"

    def __init__(self, image_dim=32, vocab_size=60, proj_dim=16, **kwargs):
        super().__init__(**kwargs)
        self.image_dim, self.vocab_size, self.proj_dim = image_dim, vocab_size, proj_dim


class DualEncoder(PreTrainedModel):
    """CLIP-style image/text encoders with a learned softmax temperature."""

    config_class = DualEncoderConfig

    def __init__(self, config):
        super().__init__(config)
        self.image_proj = nn.Sequential(nn.Linear(config.image_dim, 32), nn.GELU(), nn.Linear(32, config.proj_dim))
        self.token_emb = nn.EmbeddingBag(config.vocab_size, 32)
        self.text_proj = nn.Linear(32, config.proj_dim)
        self.register_buffer("logit_scale", torch.tensor(math.log(1 / 0.07)).requires_grad_())
        self.post_init()

    def forward(self, pixel_features=None, input_ids=None, return_loss=True):
        img = F.normalize(self.image_proj(pixel_features), dim=-1)
        txt = F.normalize(self.text_proj(self.token_emb(input_ids)), dim=-1)
        logits = self.logit_scale.exp() * img @ txt.t()
        target = torch.arange(len(img))
        loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
        return {"loss": loss, "logits_per_image": logits}


def make_pairs(n=32):
    g = torch.Generator().manual_seed(5)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 60, (5,), generator=g)
        pix = torch.randn(32, generator=g) + F.one_hot(ids[0] % 32, 32).float()
        rows.append({"pixel_features": pix, "input_ids": ids})
    return rows


def main():
    torch.manual_seed(0)
    model = DualEncoder(DualEncoderConfig())
    args = TrainingArguments(output_dir="tmp_clip", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_pairs())
    scale_before = model.logit_scale.detach().clone()
    proj_before = model.text_proj.weight.detach().clone()
    trainer.train()
    in_opt = {id(p) for grp in trainer.optimizer.param_groups for p in grp["params"]}
    facts = {
        "logit_scale_changed": not torch.equal(scale_before, model.logit_scale),
        "logit_scale_in_optimizer": id(model.logit_scale) in in_opt,
        "text_proj_changed": not torch.equal(proj_before, model.text_proj.weight),
    }
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
