import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MiniGPT2Config(PretrainedConfig):
    model_type = "mini-gpt2"

    def __init__(self, vocab_size=64, n_positions=16, n_embd=32, n_layer=2, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.n_positions, self.n_embd, self.n_layer = vocab_size, n_positions, n_embd, n_layer


class GPT2Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj = nn.Linear(4 * d, d)

    def forward(self, h):
        h = h + torch.tanh(self.c_attn(self.ln_1(h)))
        return h + self.c_proj(F.gelu(self.c_fc(self.ln_2(h))))


class MiniGPT2ForSequenceClassification(PreTrainedModel):
    config_class = MiniGPT2Config

    def __init__(self, config):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.h = nn.ModuleList([GPT2Block(config.n_embd) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.score = nn.Linear(config.n_embd, config.num_labels, bias=False)
        self.post_init()

    def forward(self, input_ids, labels=None):
        pos = torch.arange(input_ids.size(1))
        h = self.wte(input_ids) + self.wpe(pos)
        for block in self.h:
            h = block(h)
        logits = self.score(self.ln_f(h))[:, -1]
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GroupedDecayTrainer(Trainer):
    no_decay = ("bias", "LayerNorm.weight")

    def create_optimizer(self):
        if self.optimizer is None:
            named = list(self.model.named_parameters())
            decay = [p for n, p in named if p.ndim >= 2 and not any(nd in n for nd in self.no_decay)]
            no_decay = [p for n, p in named if any(nd in n for nd in self.no_decay)]
            self.optimizer = torch.optim.AdamW(
                [{"params": decay, "weight_decay": self.args.weight_decay},
                 {"params": no_decay, "weight_decay": 0.0}],
                lr=self.args.learning_rate, betas=(self.args.adam_beta1, self.args.adam_beta2))
        return self.optimizer


def make_dataset(n=16, seq=8):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 64, (n, seq), generator=g)
    return [{"input_ids": ids[i], "label": int(ids[i, -1] > 31)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = MiniGPT2ForSequenceClassification(MiniGPT2Config())
    ln0 = model.h[0].ln_1.weight.detach().clone()
    lnf0 = model.ln_f.weight.detach().clone()
    score0 = model.score.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2215_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none")
    trainer = GroupedDecayTrainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    n_opt = sum(len(g["params"]) for g in trainer.optimizer.param_groups)
    return ({"model": model},
            {"ln_1_changed": not torch.equal(ln0, model.h[0].ln_1.weight),
             "ln_f_changed": not torch.equal(lnf0, model.ln_f.weight),
             "score_changed": not torch.equal(score0, model.score.weight),
             "optimized_tensors": n_opt, "model_tensors": len(list(model.parameters()))})

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
