import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class CosineClassifierConfig(PretrainedConfig):
    model_type = "cosine-intent"

    def __init__(self, vocab_size=60, hidden_size=32, init_scale=4.0, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.init_scale = init_scale
        super().__init__(**kwargs)


class BagOfWordsEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden_size, mode="mean")
        self.proj = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())

    def forward(self, input_ids):
        return self.proj(self.embed(input_ids))


class CosineIntentClassifier(PreTrainedModel):
    config_class = CosineClassifierConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = BagOfWordsEncoder(config)
        self.prototypes = nn.Parameter(torch.randn(config.num_labels, config.hidden_size) * 0.1)
        self.logit_scale = torch.full((), float(config.init_scale), requires_grad=True)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids, labels=None):
        feats = F.normalize(self.encoder(input_ids), dim=-1)
        protos = F.normalize(self.prototypes, dim=-1)
        logits = self.logit_scale * feats @ protos.t()
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=48, seq=6, vocab=60, num_labels=4):
    g = torch.Generator().manual_seed(3)
    rows = []
    for _ in range(n):
        label = int(torch.randint(num_labels, (1,), generator=g))
        ids = torch.randint(label * 15, label * 15 + 15, (seq,), generator=g)
        rows.append({"input_ids": ids, "label": label})
    return rows


def main():
    torch.manual_seed(0)
    config = CosineClassifierConfig(num_labels=4)
    model = CosineIntentClassifier(config)
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-2, weight_decay=0.01, logging_steps=5, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    scale0 = float(model.logit_scale)
    proto0 = model.prototypes.detach().clone()
    trainer.train()
    trained = {n for group in trainer.optimizer.param_groups for n, p in model.named_parameters()
               if any(p is q for q in group["params"])}
    return {"model": model}, {
        "logit_scale_changed": float(model.logit_scale) != scale0,
        "prototypes_changed": not torch.equal(proto0, model.prototypes),
        "logit_scale_in_optimizer": any(model.logit_scale is q for g in trainer.optimizer.param_groups for q in g["params"]),
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
