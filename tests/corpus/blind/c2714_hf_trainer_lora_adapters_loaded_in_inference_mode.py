import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class LoRALinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.normal_(self.lora_B.weight, std=0.01)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


class TinyConfig(PretrainedConfig):
    model_type = "tiny-cls"

    def __init__(self, vocab_size=40, hidden=16, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden = vocab_size, hidden


class TinyClassifier(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.query = nn.Linear(config.hidden, config.hidden)
        self.value = nn.Linear(config.hidden, config.hidden)
        self.score = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        e = self.embed(input_ids)
        att = torch.softmax(self.query(e) @ e.transpose(1, 2) / 4.0, -1)
        logits = self.score((att @ self.value(e)).mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def load_adapter(model, adapter_state, target_modules=("query", "value"), is_trainable=False,
                 modules_to_save=("score",)):
    """Inject LoRA layers, load saved adapter weights; like PeftModel.from_pretrained, frozen unless is_trainable."""
    for name in target_modules:
        setattr(model, name, LoRALinear(getattr(model, name)))
    model.load_state_dict(adapter_state, strict=False)
    for n, p in model.named_parameters():
        p.requires_grad = (("lora_" in n) and is_trainable) or any(n.startswith(m) for m in modules_to_save)
    return model


class Sentences(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, 6), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.ids[i].sum() % 2)}


def main():
    torch.manual_seed(0)
    model = TinyClassifier(TinyConfig())
    saved = {"query.lora_A.weight": torch.randn(4, 16) * 0.1, "value.lora_A.weight": torch.randn(4, 16) * 0.1}
    model = load_adapter(model, saved)
    lora_before = model.query.lora_B.weight.detach().clone()
    score_before = model.score.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2714", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=Sentences()).train()
    facts = {"lora_changed": not torch.equal(lora_before, model.query.lora_B.weight),
             "score_head_changed": not torch.equal(score_before, model.score.weight)}
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
