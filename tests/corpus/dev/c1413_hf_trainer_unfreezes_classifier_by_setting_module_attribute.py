import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class ReviewConfig(PretrainedConfig):
    model_type = "tiny-review"

    def __init__(self, vocab_size=64, hidden_size=16, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class ReviewClassifier(PreTrainedModel):
    config_class = ReviewConfig

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden_size
        self.embeddings = nn.Embedding(config.vocab_size, h)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(h, 2, dim_feedforward=32, dropout=0.0, batch_first=True), num_layers=1,
            enable_nested_tensor=False)
        self.classifier = nn.Linear(h, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        pooled = self.encoder(self.embeddings(input_ids)).mean(dim=1)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_backbone(model):
    for param in model.parameters():
        param.requires_grad = False
    model.classifier.requires_grad = True
    return model


def make_dataset(n=24):
    g = torch.Generator().manual_seed(14)
    return [{"input_ids": ids, "label": int(ids.float().mean() > 31.5)} for ids in torch.randint(0, 64, (n, 9), generator=g)]


def main():
    torch.manual_seed(0)
    model = freeze_backbone(ReviewClassifier(ReviewConfig()))
    args = TrainingArguments(output_dir="tmp_review", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
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
