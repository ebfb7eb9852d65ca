import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import CausalLMOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class TinyLlavaConfig(PretrainedConfig):
    model_type = "tiny-llava"

    def __init__(self, vocab_size=64, hidden_size=32, vision_dim=24, patch_dim=12, tune_vision_tower=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.vision_dim, self.patch_dim = vision_dim, patch_dim
        self.tune_vision_tower = tune_vision_tower


class VisionTower(nn.Module):
    def __init__(self, patch_dim, dim):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        self.block = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())

    @torch.no_grad()
    def forward(self, pixel_patches):
        x = self.patch_embed(pixel_patches)
        return x + self.block(x)


class Connector(nn.Module):
    def __init__(self, vision_dim, hidden):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(vision_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden))

    def forward(self, feats):
        return self.mlp(feats)


class TinyLlavaForConditionalGeneration(PreTrainedModel):
    config_class = TinyLlavaConfig

    def __init__(self, config):
        super().__init__(config)
        self.vision_tower = VisionTower(config.patch_dim, config.vision_dim)
        self.connector = Connector(config.vision_dim, config.hidden_size)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.decoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, pixel_patches=None, input_ids=None, labels=None):
        image_embeds = self.connector(self.vision_tower(pixel_patches))
        hidden, _ = self.decoder(torch.cat([image_embeds, self.embed_tokens(input_ids)], dim=1))
        logits = self.lm_head(hidden[:, image_embeds.size(1):])
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


def set_trainable(model, config):
    model.requires_grad_(True)
    model.vision_tower.requires_grad_(config.tune_vision_tower)


def make_dataset(n=32, n_patches=4, length=8):
    g = torch.Generator().manual_seed(2)
    patches = torch.randn(n, n_patches, 12, generator=g)
    ids = torch.randint(0, 64, (n, length), generator=g)
    return [{"pixel_patches": patches[i], "input_ids": ids[i], "labels": ids[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    config = TinyLlavaConfig(tune_vision_tower=True)
    model = TinyLlavaForConditionalGeneration(config)
    set_trainable(model, config)
    w0 = model.vision_tower.patch_embed.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_tinyllava", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    batch = {k: torch.stack([ex[k] for ex in make_dataset()[:8]]) for k in ("pixel_patches", "input_ids", "labels")}
    model(**batch).loss.backward()
    return {"model": model}, {"vision_tower_changed": not torch.equal(w0, model.vision_tower.patch_embed.weight),
                              "vision_tower_requires_grad": model.vision_tower.patch_embed.weight.requires_grad}

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
