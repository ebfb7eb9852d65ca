import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class SetFitConfig(PretrainedConfig):
    model_type = "setfit-tiny"

    def __init__(self, vocab_size=40, hidden=16, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden = vocab_size, hidden


class SentenceBody(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.mix = nn.Linear(config.hidden, config.hidden)

    def forward(self, input_ids):
        return torch.tanh(self.mix(self.embed(input_ids).mean(1)))


class SetFitModel(PreTrainedModel):
    config_class = SetFitConfig

    def __init__(self, config):
        super().__init__(config)
        self.body = SentenceBody(config)
        self.head = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.head(self.body(input_ids))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_head(model):
    for p in model.head.parameters():
        p.requires_grad = False


def unfreeze(model, keep_body_frozen=False):
    for p in model.head.parameters():
        p.requires_grad = True
    for p in model.body.parameters():
        p.requires_grad = not keep_body_frozen


class Utterances(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, 6), generator=g)
        self.labels = self.ids[:, 0] % 3

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.labels[i])}


def run_phase(model, lr, out):
    args = TrainingArguments(output_dir=out, per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=lr, report_to="none")
    Trainer(model=model, args=args, train_dataset=Utterances()).train()


def main():
    model = SetFitModel(SetFitConfig())
    head_before = model.head.weight.detach().clone()
    body_before = model.body.mix.weight.detach().clone()
    freeze_head(model)
    run_phase(model, 1e-2, "/tmp/c2713_body")
    run_phase(model, 5e-2, "/tmp/c2713_head")
    facts = {"head_changed": not torch.equal(head_before, model.head.weight),
             "body_changed": not torch.equal(body_before, model.body.mix.weight)}
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
