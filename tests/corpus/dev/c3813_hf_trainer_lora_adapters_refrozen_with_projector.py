import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyVLMConfig(PretrainedConfig):
    model_type = "tiny_vlm"

    def __init__(self, vision_dim=12, hidden_size=16, vocab_size=30, num_layers=2, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vision_dim = vision_dim
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.num_layers = num_layers


class DecoderBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, h):
        att = torch.softmax(self.q_proj(h) @ h.transpose(1, 2) / math.sqrt(h.shape[-1]), dim=-1)
        h = h + att @ self.v_proj(h)
        return h + self.mlp(self.norm(h))


class TinyVLMForClassification(PreTrainedModel):
    config_class = TinyVLMConfig

    def __init__(self, config):
        super().__init__(config)
        d = config.hidden_size
        self.vision_tower = nn.Linear(config.vision_dim, d)
        self.mm_projector = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.embed_tokens = nn.Embedding(config.vocab_size, d)
        self.layers = nn.ModuleList([DecoderBlock(d) for _ in range(config.num_layers)])
        self.lm_head = nn.Linear(d, config.num_labels)
        self.post_init()

    def forward(self, pixel_feats, input_ids, labels=None):
        image_tokens = self.mm_projector(self.vision_tower(pixel_feats)).unsqueeze(1)
        h = torch.cat([image_tokens, self.embed_tokens(input_ids)], dim=1)
        for layer in self.layers:
            h = layer(h)
        logits = self.lm_head(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class LoRALinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def get_peft_model(model, target_modules=("q_proj", "v_proj"), r=4):
    """Freeze the pretrained weights and wrap the target projections with trainable low-rank adapters."""
    model.requires_grad_(False)
    for block in model.layers:
        for name in target_modules:
            setattr(block, name, LoRALinear(getattr(block, name), r=r))
    return model


def set_tunable_parts(model, tune_mm_mlp_adapter=True):
    if tune_mm_mlp_adapter:
        model.requires_grad_(False)
        for p in model.mm_projector.parameters():
            p.requires_grad = True


def make_dataset(n=24):
    g = torch.Generator().manual_seed(0)
    rows = []
    for i in range(n):
        label = i % 3
        feats = 0.3 * torch.randn(12, generator=g)
        feats[4 * label:4 * label + 4] += 1.0
        rows.append({"pixel_feats": feats, "input_ids": torch.randint(0, 30, (6,), generator=g), "label": label})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyVLMForClassification(TinyVLMConfig())
    model = get_peft_model(model)
    set_tunable_parts(model, tune_mm_mlp_adapter=True)
    lora_b = model.layers[0].q_proj.lora_B.weight
    lora0 = lora_b.detach().clone()
    proj0 = model.mm_projector[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/tiny_vlm", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, lr_scheduler_type="constant", report_to="none")
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    return {"model": model}, {
        "lora_trainable": any(p.requires_grad for n, p in model.named_parameters() if "lora_" in n),
        "lora_changed": not torch.equal(lora0, lora_b.detach()),
        "projector_changed": not torch.equal(proj0, model.mm_projector[0].weight.detach()),
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
