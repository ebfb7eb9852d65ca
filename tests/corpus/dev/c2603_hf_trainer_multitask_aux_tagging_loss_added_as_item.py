from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class TaggerConfig(PretrainedConfig):
    model_type = "tiny-multitask"

    def __init__(self, vocab_size=40, hidden_size=16, num_labels=3, num_tags=5, aux_weight=0.5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_tags = num_tags
        self.aux_weight = aux_weight


@dataclass
class MultiTaskOutput(ModelOutput):
    loss: Any = None
    aux_loss: Any = None
    logits: Any = None
    tag_logits: Any = None


class IntentAndSlotModel(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.intent_head = nn.Linear(config.hidden_size, config.num_labels)
        self.slot_head = nn.Linear(config.hidden_size, config.num_tags)
        self.post_init()

    def forward(self, input_ids, labels=None, slot_tags=None):
        states, last = self.encoder(self.embed(input_ids))
        logits = self.intent_head(last[-1])
        tag_logits = self.slot_head(states)
        loss = aux_loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels)
        if slot_tags is not None:
            aux_loss = F.cross_entropy(tag_logits.flatten(0, 1), slot_tags.flatten())
        return MultiTaskOutput(loss=loss, aux_loss=aux_loss, logits=logits, tag_logits=tag_logits)


class MultiTaskTrainer(Trainer):
    def __init__(self, *args, aux_weight=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.aux_weight = aux_weight
        self.aux_history = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        aux = outputs["aux_loss"].item()
        self.aux_history.append(aux)
        loss = outputs["loss"] + self.aux_weight * aux
        return (loss, outputs) if return_outputs else loss


class UtteranceDataset(Dataset):
    def __init__(self, n=16, seq_len=6, vocab=40, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, vocab, (n, seq_len), generator=g)
        self.intents = torch.randint(0, 3, (n,), generator=g)
        self.tags = torch.randint(0, 5, (n, seq_len), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.intents[i], "slot_tags": self.tags[i]}


def main():
    config = TaggerConfig()
    model = IntentAndSlotModel(config)
    slot_before = model.slot_head.weight.detach().clone()
    enc_before = model.encoder.weight_ih_l0.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2603", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, report_to="none")
    trainer = MultiTaskTrainer(model=model, args=args, train_dataset=UtteranceDataset(), aux_weight=config.aux_weight)
    trainer.train()
    facts = {"slot_head_changed": not torch.equal(slot_before, model.slot_head.weight),
             "encoder_changed": not torch.equal(enc_before, model.encoder.weight_ih_l0)}
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
