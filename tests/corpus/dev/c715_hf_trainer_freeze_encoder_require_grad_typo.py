import torch
import torch.nn as nn
from transformers import (PreTrainedModel, PretrainedConfig, SequenceClassifierOutput, Trainer,
                          TrainingArguments)


class TinyConfig(PretrainedConfig):
    model_type = "tiny-encoder"

    def __init__(self, vocab_size=120, hidden_size=32, num_layers=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class TinyEncoderForSequenceClassification(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        layer = nn.TransformerEncoderLayer(config.hidden_size, nhead=4, dim_feedforward=64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, labels=None):
        pad = attention_mask == 0 if attention_mask is not None else None
        h = self.encoder(self.embeddings(input_ids), src_key_padding_mask=pad)
        logits = self.classifier(h[:, 0])
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_encoder(model):
    """Linear-probe setup: keep the pretrained embeddings and encoder fixed, train the head only."""
    for param in model.encoder.parameters():
        param.require_grad = False
    for param in model.embeddings.parameters():
        param.require_grad = False


def make_dataset(n=48, seq=8, vocab=120):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, vocab, (n, seq), generator=g)
    labels = (ids[:, 0] % 2).tolist()
    return [{"input_ids": ids[i], "attention_mask": torch.ones(seq, dtype=torch.long), "label": labels[i]}
            for i in range(n)]


def main():
    torch.manual_seed(0)
    model = TinyEncoderForSequenceClassification(TinyConfig(num_labels=2))
    freeze_encoder(model)
    enc_before = model.encoder.layers[0].linear1.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    n_trainable = sum(p.numel() for g in trainer.optimizer.param_groups for p in g["params"])
    return {"model": model}, {
        "encoder_stayed_frozen": torch.equal(enc_before, model.encoder.layers[0].linear1.weight),
        "only_head_in_optimizer": n_trainable == sum(p.numel() for p in model.classifier.parameters()),
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
