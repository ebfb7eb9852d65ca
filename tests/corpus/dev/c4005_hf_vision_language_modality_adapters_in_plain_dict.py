import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class TinyVLConfig(PretrainedConfig):
    model_type = "tiny_vl"

    def __init__(self, vision_dim=12, text_dim=16, vocab=20, n_prefix=2, modalities=("image", "video"),
                 default_modality="image", **kwargs):
        super().__init__(**kwargs)
        self.vision_dim, self.text_dim, self.vocab = vision_dim, text_dim, vocab
        self.n_prefix, self.modalities, self.default_modality = n_prefix, list(modalities), default_modality


class ModalityAdapter(nn.Module):
    def __init__(self, d_in, d_out, n_prefix):
        super().__init__()
        self.n_prefix, self.d_out = n_prefix, d_out
        self.down = nn.Linear(d_in, d_out * n_prefix)
        self.up = nn.Linear(d_out, d_out)

    def forward(self, feats):
        return self.up(F.gelu(self.down(feats).view(feats.size(0), self.n_prefix, self.d_out)))


def build_adapters(config):
    return {m: ModalityAdapter(config.vision_dim, config.text_dim, config.n_prefix) for m in config.modalities}


class TinyVLForCausalLM(PreTrainedModel):
    config_class = TinyVLConfig

    def __init__(self, config):
        super().__init__(config)
        self.vision_tower = nn.Sequential(nn.Linear(config.vision_dim, config.vision_dim), nn.GELU())
        self.adapters = build_adapters(config)
        self.embed = nn.Embedding(config.vocab, config.text_dim)
        self.lm_head = nn.Linear(config.text_dim, config.vocab)
        self.post_init()

    def forward(self, pixel_feats=None, input_ids=None, labels=None, **kwargs):
        prefix = self.adapters[self.config.default_modality](self.vision_tower(pixel_feats))
        hidden = torch.cat([prefix, self.embed(input_ids)], dim=1)
        logits = self.lm_head(hidden)[:, prefix.size(1) - 1:-1]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1))
        return ModelOutput(loss=loss, logits=logits)


def caption_samples(n=32, vocab=20, t=5):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        ids = torch.randint(0, vocab, (t,), generator=g)
        out.append({"pixel_feats": torch.randn(12, generator=g), "input_ids": ids, "labels": ids.clone()})
    return out


def main():
    torch.manual_seed(0)
    model = TinyVLForCausalLM(TinyVLConfig())
    ad0 = model.adapters["image"].down.weight.detach().clone()
    head0 = model.lm_head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/tiny_vl", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=caption_samples()).train()
    return {"adapter": model.adapters["image"]}, {
        "adapter_changed": not torch.equal(ad0, model.adapters["image"].down.weight),
        "lm_head_changed": not torch.equal(head0, model.lm_head.weight),
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
