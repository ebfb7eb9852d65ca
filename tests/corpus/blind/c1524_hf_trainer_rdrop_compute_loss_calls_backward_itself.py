import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class IntentConfig(PretrainedConfig):
    model_type = "intent-mlp"

    def __init__(self, vocab_size=90, hidden_size=24, num_labels=4, dropout=0.2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.dropout = vocab_size, hidden_size, dropout


class IntentModel(PreTrainedModel):
    config_class = IntentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)
        self.hidden = nn.Linear(config.hidden_size, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        h = self.dropout(torch.tanh(self.hidden(self.dropout(self.embed(input_ids)))))
        logits = self.classifier(h)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def symmetric_kl(p_logits, q_logits):
    p, q = F.log_softmax(p_logits, -1), F.log_softmax(q_logits, -1)
    return 0.5 * (F.kl_div(p, q, log_target=True, reduction="batchmean") + F.kl_div(q, p, log_target=True, reduction="batchmean"))


class RDropTrainer(Trainer):
    """R-Drop: two dropout passes, cross-entropy on both plus a KL consistency term."""

    def __init__(self, *args, alpha=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha = alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out1 = model(**inputs)
        out2 = model(**inputs)
        loss = 0.5 * (out1.loss + out2.loss) + self.alpha * symmetric_kl(out1.logits, out2.logits)
        loss.backward()
        return (loss, out1) if return_outputs else loss


def make_dataset(n=40, length=8):
    g = torch.Generator().manual_seed(89)
    ids = torch.randint(0, 90, (n, length), generator=g)
    return [{"input_ids": ids[i], "labels": int(ids[i, 0] % 4)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = IntentModel(IntentConfig())
    args = TrainingArguments(output_dir="tmp_rdrop", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    RDropTrainer(model=model, args=args, train_dataset=make_dataset()).train()
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
