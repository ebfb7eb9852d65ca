import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import CausalLMOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments

PAD_ID = 0


class TinyLMConfig(PretrainedConfig):
    model_type = "tiny-lm"

    def __init__(self, vocab_size=40, hidden_size=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyCausalLM(PreTrainedModel):
    config_class = TinyLMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=PAD_ID)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        hidden, _ = self.rnn(self.embed_tokens(input_ids))
        logits = self.lm_head(hidden)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100)
        return CausalLMOutput(loss=loss, logits=logits)


class PadAndMaskCollator:
    def __call__(self, features):
        max_len = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), max_len), PAD_ID, dtype=torch.long)
        for i, f in enumerate(features):
            input_ids[i, :len(f["input_ids"])] = torch.tensor(f["input_ids"])
        labels = input_ids.clone()
        labels[labels == PAD_ID] = -100
        return {"input_ids": input_ids, "attention_mask": (input_ids != PAD_ID).long(), "labels": labels}


def make_dataset(n=32):
    g = torch.Generator().manual_seed(40)
    lengths = torch.randint(4, 10, (n,), generator=g)
    return [{"input_ids": torch.randint(1, 40, (int(k),), generator=g).tolist()} for k in lengths]


def main():
    torch.manual_seed(0)
    model = TinyCausalLM(TinyLMConfig())
    head0 = model.lm_head.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_lm", num_train_epochs=1, per_device_train_batch_size=8, learning_rate=5e-3,
                             report_to="none", seed=0, remove_unused_columns=False)
    Trainer(model=model, args=args, train_dataset=make_dataset(), data_collator=PadAndMaskCollator()).train()
    return {"model": model}, {"lm_head_changed": not torch.equal(head0, model.lm_head.weight)}

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
