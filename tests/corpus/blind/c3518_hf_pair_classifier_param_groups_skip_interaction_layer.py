import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, get_linear_schedule_with_warmup
from transformers.modeling_outputs import SequenceClassifierOutput


class NLIConfig(PretrainedConfig):
    model_type = "tiny-nli"

    def __init__(self, vocab_size=60, hidden_size=24, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class SentenceEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.ff = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.ReLU())

    def forward(self, ids):
        return self.ff(self.embed(ids).mean(1))


class PairClassifier(PreTrainedModel):
    config_class = NLIConfig

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden_size
        self.encoder = SentenceEncoder(config)
        self.interaction = nn.Sequential(nn.Linear(4 * h, h), nn.Tanh())
        self.classifier = nn.Linear(h, config.num_labels)
        self.post_init()

    def forward(self, premise_ids, hypothesis_ids, labels=None):
        p, q = self.encoder(premise_ids), self.encoder(hypothesis_ids)
        feats = self.interaction(torch.cat([p, q, (p - q).abs(), p * q], dim=-1))
        logits = self.classifier(feats)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def build_optimizer(model, lr=1e-2, encoder_lr_ratio=0.3):
    groups = [
        {"params": model.encoder.parameters(), "lr": lr * encoder_lr_ratio},
        {"params": model.classifier.parameters(), "lr": lr},
    ]
    return torch.optim.AdamW(groups, lr=lr, weight_decay=0.01)


def make_dataset(n=40, seq=5):
    g = torch.Generator().manual_seed(29)
    rows = []
    for _ in range(n):
        p = torch.randint(0, 60, (seq,), generator=g)
        same = bool(torch.rand(1, generator=g) > 0.5)
        q = p.flip(0) if same else torch.randint(0, 60, (seq,), generator=g)
        rows.append({"premise_ids": p, "hypothesis_ids": q, "label": int(same)})
    return rows


def main():
    torch.manual_seed(0)
    model = PairClassifier(NLIConfig(num_labels=2))
    optimizer = build_optimizer(model)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=1, num_training_steps=10)
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset(), optimizers=(optimizer, scheduler))
    inter0 = model.interaction[0].weight.detach().clone()
    enc0 = model.encoder.ff[0].weight.detach().clone()
    trainer.train()
    return {"model": model}, {
        "interaction_changed": not torch.equal(inter0, model.interaction[0].weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.ff[0].weight),
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
