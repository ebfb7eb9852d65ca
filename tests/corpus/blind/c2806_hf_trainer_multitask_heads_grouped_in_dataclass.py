from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


@dataclass
class MultiTaskOutput(ModelOutput):
    loss: torch.Tensor = None
    sentiment_logits: torch.Tensor = None
    topic_logits: torch.Tensor = None


@dataclass
class TaskHeads:
    sentiment: nn.Module
    topic: nn.Module

    def __iter__(self):
        return iter((self.sentiment, self.topic))


class ReviewConfig(PretrainedConfig):
    model_type = "review-multitask"

    def __init__(self, vocab_size=40, hidden=16, n_sentiment=2, n_topics=4, topic_weight=0.5, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden = vocab_size, hidden
        self.n_sentiment, self.n_topics, self.topic_weight = n_sentiment, n_topics, topic_weight


class ReviewEncoder(nn.Module):
    def __init__(self, vocab_size, hidden):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab_size, hidden, mode="mean")
        self.ff = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh())

    def forward(self, input_ids):
        return self.ff(self.embed(input_ids))


class ReviewMultiTaskModel(PreTrainedModel):
    config_class = ReviewConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = ReviewEncoder(config.vocab_size, config.hidden)
        self.heads = TaskHeads(sentiment=nn.Linear(config.hidden, config.n_sentiment),
                               topic=nn.Linear(config.hidden, config.n_topics))
        self.post_init()

    def forward(self, input_ids, sentiment=None, topic=None):
        h = self.encoder(input_ids)
        s_logits, t_logits = self.heads.sentiment(h), self.heads.topic(h)
        loss = None
        if sentiment is not None and topic is not None:
            loss = F.cross_entropy(s_logits, sentiment) + self.config.topic_weight * F.cross_entropy(t_logits, topic)
        return MultiTaskOutput(loss=loss, sentiment_logits=s_logits, topic_logits=t_logits)


class Reviews(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, 7), generator=g)
        self.sentiment = (self.ids[:, 0] < 20).long()
        self.topic = self.ids[:, 1] % 4

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "sentiment": self.sentiment[i], "topic": self.topic[i]}


def main():
    model = ReviewMultiTaskModel(ReviewConfig())
    heads_before = [h.weight.detach().clone() for h in model.heads]
    encoder_before = model.encoder.ff[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2806_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=2e-2, label_names=["sentiment", "topic"], report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=Reviews())
    trainer.train()
    facts = {"heads_changed": any(not torch.equal(b, h.weight) for b, h in zip(heads_before, model.heads)),
             "encoder_changed": not torch.equal(encoder_before, model.encoder.ff[0].weight),
             "heads_in_optimizer": sum(p.numel() for g in trainer.optimizer.param_groups for p in g["params"])
             == sum(p.numel() for h in model.heads for p in h.parameters()) + sum(p.numel() for p in model.encoder.parameters())}
    return {}, facts

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
