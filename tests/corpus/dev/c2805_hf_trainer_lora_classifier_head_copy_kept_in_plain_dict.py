import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyConfig(PretrainedConfig):
    model_type = "tiny-encoder"

    def __init__(self, vocab_size=50, hidden=16, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden = vocab_size, hidden


class LoraLinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


class ModulesToSaveWrapper(nn.Module):
    """Keeps the pretrained head frozen and trains a per-adapter copy of it (as PEFT's modules_to_save does)."""

    def __init__(self, module, adapter_name="default"):
        super().__init__()
        self.original_module = module
        self.modules_to_save = {adapter_name: copy.deepcopy(module)}
        self.active_adapter = adapter_name
        self.original_module.requires_grad_(False)
        self.modules_to_save[adapter_name].requires_grad_(True)

    def forward(self, x):
        return self.modules_to_save[self.active_adapter](x)


class TinyEncoderForClassification(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.proj = nn.Linear(config.hidden, config.hidden)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = torch.tanh(self.proj(self.embed(input_ids))).mean(dim=1)
        logits = self.classifier(h)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def prepare_for_adapter_training(model, target_modules=("proj",), modules_to_save=("classifier",)):
    model.requires_grad_(False)
    for name in target_modules:
        setattr(model, name, LoraLinear(getattr(model, name)))
    for name in modules_to_save:
        setattr(model, name, ModulesToSaveWrapper(getattr(model, name)))
    return model


class IntentData(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(1)
        self.ids = torch.randint(0, 50, (n, 6), generator=g)
        self.labels = self.ids[:, 0] % 3

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.labels[i])}


def main():
    torch.manual_seed(0)
    model = prepare_for_adapter_training(TinyEncoderForClassification(TinyConfig()))
    head_copy = model.classifier.modules_to_save["default"]
    head_before = head_copy.weight.detach().clone()
    lora_before = model.proj.lora_B.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2805_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=IntentData())
    trainer.train()
    facts = {"head_copy_changed": not torch.equal(head_before, head_copy.weight),
             "lora_changed": not torch.equal(lora_before, model.proj.lora_B.weight)}
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
