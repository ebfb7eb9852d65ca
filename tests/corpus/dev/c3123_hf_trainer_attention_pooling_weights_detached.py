import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class PoolConfig(PretrainedConfig):
    model_type = "attn-pool-classifier"

    def __init__(self, vocab_size=50, hidden_size=16, num_labels=3, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size, self.num_labels = vocab_size, hidden_size, num_labels


class AttentionPooler(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.key = nn.Linear(dim, dim)
        self.query = nn.Parameter(torch.randn(dim) * 0.1)

    def forward(self, hidden, mask):
        scores = self.key(hidden) @ self.query
        scores = scores.masked_fill(mask == 0, -1e4)
        weights = torch.softmax(scores, dim=-1).detach()
        return (weights.unsqueeze(-1) * hidden).sum(1)


class PooledClassifier(PreTrainedModel):
    config_class = PoolConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.pooler = AttentionPooler(config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask, labels=None):
        hidden = self.encoder(self.embed(input_ids), src_key_padding_mask=attention_mask == 0)
        logits = self.classifier(self.pooler(hidden, attention_mask))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class SentDataset(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 50, (n, 8), generator=g)
        self.mask = torch.ones(n, 8, dtype=torch.long)
        self.mask[::3, 6:] = 0
        self.labels = torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = PooledClassifier(PoolConfig())
    q0, c0 = model.pooler.query.detach().clone(), model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/attnpool", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=SentDataset())
    trainer.train()
    b = SentDataset()[0]
    model(b["input_ids"][None], b["attention_mask"][None], labels=b["labels"][None]).loss.backward()
    g = model.pooler.query.grad
    facts = {"pool_query_changed": not torch.equal(q0, model.pooler.query),
             "pool_query_grad_after_check": None if g is None else float(g.abs().sum() > 0),
             "classifier_changed": not torch.equal(c0, model.classifier.weight)}
    return {"classifier": model.classifier}, facts

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
