import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class RationaleConfig(PretrainedConfig):
    model_type = "rationale"

    def __init__(self, vocab_size=30, hidden=16, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden = vocab_size, hidden


def hard_concrete_mask(logits, tau=0.5):
    g = -torch.log(-torch.log(torch.rand_like(logits).clamp_min(1e-9)))
    soft = F.softmax((logits + g) / tau, dim=-1)
    hard = (soft == soft.max(-1, keepdim=True).values).to(soft.dtype)
    return (hard - soft).detach() + soft


class RationaleClassifier(PreTrainedModel):
    """Selects tokens with a hard (straight-through) Gumbel mask, then classifies the kept tokens."""

    config_class = RationaleConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.selector = nn.Linear(config.hidden, 2)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        e = self.embed(input_ids)
        keep = hard_concrete_mask(self.selector(e))[..., 1:]
        pooled = (e * keep).sum(1) / keep.sum(1).clamp_min(1.0)
        logits = self.classifier(pooled)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels) + 0.01 * keep.mean()
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Reviews(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 30, (n, 6), generator=g)
        self.labels = (self.ids < 5).any(1).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.labels[i])}


def main():
    torch.manual_seed(0)
    model = RationaleClassifier(RationaleConfig())
    sel_before = model.selector.weight.detach().clone()
    cls_before = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2729", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=Reviews()).train()
    facts = {"selector_changed": not torch.equal(sel_before, model.selector.weight),
             "classifier_changed": not torch.equal(cls_before, model.classifier.weight)}
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
