import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class ReviewConfig(PretrainedConfig):
    model_type = "review-encoder"

    def __init__(self, vocab_size=64, hidden_size=20, num_layers=2, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class ReviewEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU())
                                    for _ in range(config.num_layers))

    def forward(self, input_ids):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            h = h + layer(h)
        return h.mean(1)


class ReviewClassifier(PreTrainedModel):
    config_class = ReviewConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = ReviewEncoder(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        logits = self.classifier(self.encoder(input_ids))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_encoder(model):
    for name, param in model.named_parameters():
        if name.startswith("encoder."):
            param.requires_grad == False
    return model


def make_dataset(n=32, seq_len=6):
    g = torch.Generator().manual_seed(11)
    return [{"input_ids": (ids := torch.randint(0, 64, (seq_len,), generator=g)), "label": int(ids.max() > 50)}
            for _ in range(n)]


def main():
    torch.manual_seed(0)
    model = freeze_encoder(ReviewClassifier(ReviewConfig()))
    args = TrainingArguments(output_dir="tmp_freeze", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    enc0 = model.encoder.layers[0][0].weight.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    facts = {
        "encoder_changed": not torch.equal(enc0, model.encoder.layers[0][0].weight),
        "encoder_requires_grad": model.encoder.layers[0][0].weight.requires_grad,
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
    }
    return {"model": model}, facts

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
