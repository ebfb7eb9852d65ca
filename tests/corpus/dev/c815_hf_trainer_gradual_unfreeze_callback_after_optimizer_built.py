import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import (PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainerCallback,
                          TrainingArguments)


class SentimentConfig(PretrainedConfig):
    model_type = "tiny-sentiment"

    def __init__(self, vocab_size=64, hidden_size=16, num_layers=2, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class EncoderLayer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.norm = nn.LayerNorm(d)

    def forward(self, h):
        return self.norm(h + self.ff(h))


class TinyEncoderForSequenceClassification(PreTrainedModel):
    config_class = SentimentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.encoder = nn.ModuleList(EncoderLayer(config.hidden_size) for _ in range(config.num_layers))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.encoder:
            h = layer(h)
        mask = attention_mask.unsqueeze(-1).float()
        logits = self.classifier((h * mask).sum(1) / mask.sum(1).clamp(min=1.0))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GradualUnfreezeCallback(TrainerCallback):
    """ULMFiT-style: train the head first, then unfreeze the encoder from epoch `unfreeze_at` on."""

    def __init__(self, unfreeze_at=1):
        self.unfreeze_at = unfreeze_at

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if state.epoch >= self.unfreeze_at:
            for p in model.encoder.parameters():
                p.requires_grad = True


def make_dataset(n=32, seq_len=8, vocab=64):
    g = torch.Generator().manual_seed(3)
    rows = []
    for _ in range(n):
        ids = torch.randint(1, vocab, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "attention_mask": torch.ones(seq_len, dtype=torch.long),
                     "labels": int(ids.float().mean() > vocab / 2)})
    return rows


def main():
    model = TinyEncoderForSequenceClassification(SentimentConfig())
    model.embeddings.requires_grad_(False)
    for p in model.encoder.parameters():
        p.requires_grad = False
    args = TrainingArguments(output_dir="tmp_unfreeze", num_train_epochs=3, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset(),
                      callbacks=[GradualUnfreezeCallback(unfreeze_at=1)])
    enc_before = model.encoder[0].ff[0].weight.detach().clone()
    head_before = model.classifier.weight.detach().clone()
    trainer.train()
    in_opt = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    facts = {
        "encoder_requires_grad_after": all(p.requires_grad for p in model.encoder.parameters()),
        "encoder_in_optimizer": any(id(p) in in_opt for p in model.encoder.parameters()),
        "encoder_changed": not torch.equal(enc_before, model.encoder[0].ff[0].weight),
        "classifier_changed": not torch.equal(head_before, model.classifier.weight),
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
