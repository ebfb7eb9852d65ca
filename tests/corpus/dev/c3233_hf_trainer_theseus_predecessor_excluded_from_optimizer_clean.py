import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TheseusConfig(PretrainedConfig):
    model_type = "theseus"

    def __init__(self, vocab_size=40, hidden=16, n_pred=4, n_succ=2, replace_prob=0.5, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.n_pred, self.n_succ = vocab_size, hidden, n_pred, n_succ
        self.replace_prob = replace_prob


class TheseusEncoder(PreTrainedModel):
    config_class = TheseusConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.predecessors = nn.ModuleList(nn.Linear(config.hidden, config.hidden) for _ in range(config.n_pred))
        self.successors = nn.ModuleList(nn.Linear(config.hidden, config.hidden) for _ in range(config.n_succ))
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids).mean(1)
        per = len(self.predecessors) // len(self.successors)
        for i, succ in enumerate(self.successors):
            if self.training and torch.rand(()) < self.config.replace_prob:
                h = torch.tanh(succ(h))
            else:
                for pred in self.predecessors[i * per:(i + 1) * per]:
                    h = torch.tanh(pred(h))
        logits = self.classifier(h)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TheseusTrainer(Trainer):
    def create_optimizer(self):
        if self.optimizer is None:
            params = list(self.model.successors.parameters()) + list(self.model.classifier.parameters())
            self.optimizer = torch.optim.AdamW(params, lr=self.args.learning_rate)
        return self.optimizer


class Pairs(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, 6), generator=g)
        self.labels = (self.ids[:, 0] % 2).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = TheseusEncoder(TheseusConfig())
    for p in list(model.embed.parameters()) + list(model.predecessors.parameters()):
        p.requires_grad = False
    p0, s0, e0 = (model.predecessors[0].weight.detach().clone(), model.successors[0].weight.detach().clone(),
                  model.embed.weight.detach().clone())
    grads = {}

    class Probe(TheseusTrainer):
        def training_step(self, model, inputs, num_items_in_batch=None):
            out = super().training_step(model, inputs, num_items_in_batch)
            for n, p in model.named_parameters():
                if p.grad is not None and p.grad.abs().sum() > 0:
                    grads[n] = p.grad.detach().clone()
            return out

    args = TrainingArguments(output_dir="/tmp/c3233_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    Probe(model=model, args=args, train_dataset=Pairs()).train()
    for n, p in model.named_parameters():
        if n in grads:
            p.grad = grads[n]
    facts = {"predecessor_changed": not torch.equal(p0, model.predecessors[0].weight),
             "successor_changed": not torch.equal(s0, model.successors[0].weight),
             "embed_changed": not torch.equal(e0, model.embed.weight)}
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
