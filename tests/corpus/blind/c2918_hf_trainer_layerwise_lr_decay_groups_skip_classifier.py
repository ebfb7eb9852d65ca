import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MiniBertConfig(PretrainedConfig):
    model_type = "mini-bert"

    def __init__(self, vocab_size=40, hidden=16, layers=3, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.layers = vocab_size, hidden, layers


class Encoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList([nn.TransformerEncoderLayer(config.hidden, 2, 2 * config.hidden, dropout=0.0,
                                                               batch_first=True) for _ in range(config.layers)])

    def forward(self, h):
        for layer in self.layer:
            h = layer(h)
        return h


class MiniBertForSequenceClassification(PreTrainedModel):
    config_class = MiniBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden)
        self.encoder = Encoder(config)
        self.pooler = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.Tanh())
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        h = self.encoder(self.embeddings(input_ids))
        logits = self.classifier(self.pooler(h[:, 0]))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class LLRDTrainer(Trainer):
    """Layer-wise learning-rate decay: the top encoder layer gets the base LR, each layer below `decay` times less."""

    def __init__(self, *args, lr_decay=0.8, **kwargs):
        super().__init__(*args, **kwargs)
        self.lr_decay = lr_decay

    def create_optimizer(self):
        if self.optimizer is None:
            base_lr = self.args.learning_rate
            layers = [self.model.embeddings] + list(self.model.encoder.layer)
            groups = []
            for depth, layer in enumerate(reversed(layers)):
                groups.append({"params": list(layer.parameters()), "lr": base_lr * self.lr_decay ** depth,
                               "weight_decay": self.args.weight_decay})
            self.optimizer = torch.optim.AdamW(groups, lr=base_lr)
        return self.optimizer


class TopicData(Dataset):
    def __init__(self, n=30, seq=6):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, seq), generator=g)
        self.labels = self.ids[:, 1] % 3

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.labels[i])}


def main():
    torch.manual_seed(0)
    model = MiniBertForSequenceClassification(MiniBertConfig())
    args = TrainingArguments(output_dir="/tmp/llrd_out", per_device_train_batch_size=10, num_train_epochs=2,
                             learning_rate=5e-3, weight_decay=0.01, warmup_ratio=0.1, report_to="none", seed=0)
    trainer = LLRDTrainer(model=model, args=args, train_dataset=TopicData(), lr_decay=0.8)
    head_before = model.classifier.weight.detach().clone()
    top_before = model.encoder.layer[-1].linear1.weight.detach().clone()
    trainer.train()
    facts = {"classifier_changed": not torch.equal(head_before, model.classifier.weight),
             "top_layer_changed": not torch.equal(top_before, model.encoder.layer[-1].linear1.weight)}
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
