import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class RaterConfig(PretrainedConfig):
    model_type = "essay-rater"

    def __init__(self, vocab_size=90, hidden_size=32, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size


class EssayRater(PreTrainedModel):
    """Predicts an ordinal 1-5 score; trained with a distance-aware loss."""

    config_class = RaterConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.score_head = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids, labels=None):
        _, h = self.rnn(self.embed(input_ids))
        logits = self.score_head(h[-1])
        loss = None
        if labels is not None:
            predicted_score = logits.argmax(dim=-1).float()
            loss = F.smooth_l1_loss(predicted_score, labels.float())
        return SequenceClassifierOutput(loss=loss, logits=logits)


def build_dataset(n=24, seq=10):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 90, (n, seq), generator=g)
    return [{"input_ids": ids[i], "labels": int(ids[i, 0] % 5)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = EssayRater(RaterConfig())
    args = TrainingArguments(output_dir="rater", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=build_dataset())
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
