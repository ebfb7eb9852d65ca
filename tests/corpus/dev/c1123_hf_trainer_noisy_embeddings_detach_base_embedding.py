import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class ReviewConfig(PretrainedConfig):
    model_type = "review-gru"

    def __init__(self, vocab_size=50, hidden=16, num_labels=2, neftune_alpha=5.0, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden = hidden
        self.neftune_alpha = neftune_alpha


class ReviewClassifier(PreTrainedModel):
    config_class = ReviewConfig

    def __init__(self, config):
        super().__init__(config)
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden)
        self.encoder = nn.GRU(config.hidden, config.hidden, batch_first=True)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def embed(self, input_ids):
        emb = self.word_embeddings(input_ids)
        if self.training and self.config.neftune_alpha > 0:
            # NEFTune: uniform noise scaled by alpha / sqrt(L * d)
            mag = self.config.neftune_alpha / math.sqrt(emb.size(1) * emb.size(2))
            emb = emb.detach() + torch.zeros_like(emb).uniform_(-mag, mag)
        return emb

    def forward(self, input_ids, labels=None):
        _, h = self.encoder(self.embed(input_ids))
        logits = self.classifier(h[-1])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=48):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 50, (8,), generator=g)
        rows.append({"input_ids": ids, "label": int((ids < 25).sum() > 4)})
    return rows


def main():
    torch.manual_seed(0)
    model = ReviewClassifier(ReviewConfig())
    args = TrainingArguments(output_dir="tmp_reviews", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, warmup_ratio=0.1, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    emb_before = model.word_embeddings.weight.detach().clone()
    gru_before = model.encoder.weight_ih_l0.detach().clone()
    trainer.train()
    facts = {
        "embeddings_changed": not torch.equal(emb_before, model.word_embeddings.weight),
        "encoder_changed": not torch.equal(gru_before, model.encoder.weight_ih_l0),
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
