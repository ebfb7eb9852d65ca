import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers import get_linear_schedule_with_warmup
from transformers.modeling_outputs import SequenceClassifierOutput


class ReviewConfig(PretrainedConfig):
    model_type = "review-cls"

    def __init__(self, vocab_size=80, hidden_size=24, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class ReviewEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mix = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())

    def forward(self, input_ids):
        return self.mix(self.embeddings(input_ids).mean(1))


class ReviewClassifier(PreTrainedModel):
    config_class = ReviewConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = ReviewEncoder(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.classifier(self.encoder(input_ids))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GradualUnfreeze(TrainerCallback):
    """Head-only for the first epoch, then the encoder joins (its params are already in the optimizer)."""

    def __init__(self, unfreeze_at_epoch=1):
        self.unfreeze_at_epoch = unfreeze_at_epoch
        self.epoch = 0

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if self.epoch == self.unfreeze_at_epoch:
            model.encoder.requires_grad_(True)
        self.epoch += 1


def build_optimizer(model, lr):
    groups = [{"params": model.encoder.parameters(), "lr": lr * 0.2},
              {"params": model.classifier.parameters(), "lr": lr}]
    return torch.optim.AdamW(groups, weight_decay=0.0)


def make_dataset(n=32, seq=6):
    g = torch.Generator().manual_seed(15)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 80, (seq,), generator=g)
        rows.append({"input_ids": ids, "label": int((ids < 40).sum() > seq // 2)})
    return rows


def main():
    torch.manual_seed(0)
    model = ReviewClassifier(ReviewConfig(num_labels=2))
    model.encoder.requires_grad_(False)
    optimizer = build_optimizer(model, lr=2e-2)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=1, num_training_steps=8)
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset(), optimizers=(optimizer, scheduler),
                      callbacks=[GradualUnfreeze(unfreeze_at_epoch=1)])
    enc0 = model.encoder.mix[0].weight.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    trainer.train()
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder.mix[0].weight),
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
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
