import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, TokenClassifierOutput, Trainer, TrainingArguments


class TaggerConfig(PretrainedConfig):
    model_type = "tiny-tagger"

    def __init__(self, vocab_size=50, hidden_size=24, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.lstm = nn.LSTM(config.hidden_size, config.hidden_size, batch_first=True, bidirectional=True)

    def forward(self, input_ids):
        out, _ = self.lstm(self.embeddings(input_ids))
        return out


class NERTagger(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = TinyEncoder(config)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(2 * config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        logits = self.classifier(self.dropout(self.encoder(input_ids)))
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten()) if labels is not None else None
        return TokenClassifierOutput(loss=loss, logits=logits)


def make_sentences(n=32, seq_len=8):
    g = torch.Generator().manual_seed(7)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 50, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "label_ids": ids % 5})
    return rows


def main():
    torch.manual_seed(0)
    model = NERTagger(TaggerConfig())
    model.encoder.requires_grad_(False)
    args = TrainingArguments(output_dir="tmp_ner", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_sentences())
    head_before = model.classifier.weight.detach().clone()
    enc_before = model.encoder.lstm.weight_ih_l0.detach().clone()
    trainer.train()
    facts = {
        "classifier_changed": not torch.equal(head_before, model.classifier.weight),
        "encoder_frozen_as_intended": torch.equal(enc_before, model.encoder.lstm.weight_ih_l0),
        "trainable_params": model.num_parameters(only_trainable=True),
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
