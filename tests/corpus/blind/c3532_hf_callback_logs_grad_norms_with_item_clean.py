import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TaggerConfig(PretrainedConfig):
    model_type = "bow-tagger"

    def __init__(self, vocab_size=50, hidden_size=16, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class BowTagger(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden_size)
        self.hidden = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.ReLU())
        self.out = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.out(self.hidden(self.embed(input_ids)))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GradNormLogger(TrainerCallback):
    """Per-parameter gradient norms, read after backward and before the optimizer step."""

    def __init__(self):
        self.history = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        norms = {}
        for name, p in model.named_parameters():
            if p.grad is not None:
                norms[name] = p.grad.detach().norm().item()
        self.history.append(norms)


def make_dataset(n=32, seq=6):
    g = torch.Generator().manual_seed(37)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 50, (seq,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids.max() > 45)})
    return rows


def main():
    torch.manual_seed(0)
    model = BowTagger(TaggerConfig(num_labels=2))
    logger = GradNormLogger()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2, learning_rate=1e-2,
                             max_grad_norm=1.0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset(), callbacks=[logger])
    w0 = model.hidden[0].weight.detach().clone()
    trainer.train()
    return {"model": model}, {
        "hidden_changed": not torch.equal(w0, model.hidden[0].weight),
        "logged_steps": len(logger.history),
        "all_params_logged": all(len(h) == len(list(model.parameters())) for h in logger.history),
    }

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
