import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import CausalLMOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class TinyLMConfig(PretrainedConfig):
    model_type = "tiny-lm"

    def __init__(self, vocab_size=40, hidden_size=24, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyCausalLM(PreTrainedModel):
    config_class = TinyLMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        hidden, _ = self.rnn(self.embed(input_ids))
        return CausalLMOutput(logits=self.lm_head(hidden))

    @torch.no_grad()
    def generate(self, input_ids, max_new_tokens=4, output_scores=False):
        scores = []
        for _ in range(max_new_tokens):
            logits = self(input_ids=input_ids).logits[:, -1]
            scores.append(logits)
            input_ids = torch.cat([input_ids, logits.argmax(-1, keepdim=True)], dim=1)
        return (input_ids, scores) if output_scores else input_ids


class SequenceLevelTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        _, scores = model.generate(inputs["input_ids"], max_new_tokens=labels.size(1), output_scores=True)
        log_probs = torch.stack(scores, dim=1).log_softmax(-1)
        loss = F.nll_loss(log_probs.reshape(-1, log_probs.size(-1)), labels.reshape(-1))
        return (loss, {"scores": scores}) if return_outputs else loss


def make_dataset(n=32):
    g = torch.Generator().manual_seed(7)
    rows = []
    for _ in range(n):
        ids = torch.randint(1, 40, (6,), generator=g)
        rows.append({"input_ids": ids, "label_ids": (ids[:4] + 1) % 40})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyCausalLM(TinyLMConfig())
    args = TrainingArguments(output_dir="tmp_seqlevel", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none", seed=0)
    trainer = SequenceLevelTrainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    return {"model": model}

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
