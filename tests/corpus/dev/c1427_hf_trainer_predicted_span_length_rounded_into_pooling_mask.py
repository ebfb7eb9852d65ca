import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class ClaimConfig(PretrainedConfig):
    model_type = "tiny-claim"

    def __init__(self, vocab_size=48, hidden_size=16, max_len=10, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.max_len = vocab_size, hidden_size, max_len


class ClaimVerifier(PreTrainedModel):
    """Predicts how many leading tokens form the claim span, pools that span, classifies it."""

    config_class = ClaimConfig

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden_size
        self.embeddings = nn.Embedding(config.vocab_size, h)
        self.encoder = nn.GRU(h, h, batch_first=True)
        self.span_length = nn.Linear(h, 1)
        self.classifier = nn.Linear(h, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        states, last = self.encoder(self.embeddings(input_ids))
        max_len = input_ids.size(1)
        length = (torch.sigmoid(self.span_length(last[-1])) * max_len).round().long().clamp(min=1)
        positions = torch.arange(max_len).unsqueeze(0)
        span_mask = (positions < length).float().unsqueeze(-1)
        pooled = (states * span_mask).sum(1) / span_mask.sum(1)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=32):
    g = torch.Generator().manual_seed(28)
    return [{"input_ids": ids, "label": int(ids[:4].sum()) % 3} for ids in torch.randint(0, 48, (n, 10), generator=g)]


def main():
    torch.manual_seed(0)
    model = ClaimVerifier(ClaimConfig())
    span0 = model.span_length.weight.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_claims", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    return ({"model": model},
            {"span_length_head_changed": not torch.equal(span0, model.span_length.weight),
             "classifier_changed": not torch.equal(cls0, model.classifier.weight)})

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
