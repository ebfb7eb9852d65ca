import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class SentimentConfig(PretrainedConfig):
    model_type = "tiny-sentiment"

    def __init__(self, vocab_size=70, hidden_size=24, num_layers=2, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class EncoderLayer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, h):
        return h + self.mlp(self.norm(h))


class SentimentModel(PreTrainedModel):
    config_class = SentimentConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(EncoderLayer(config.hidden_size) for _ in range(config.num_layers))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True

    def forward(self, input_ids=None, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.layers:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(layer, h, use_reentrant=True)
            else:
                h = layer(h)
        logits = self.classifier(h.mean(dim=1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def load_pretrained_word_vectors(model, seed=5):
    """Copy fixed word vectors into the embedding table and keep them frozen."""
    vectors = torch.randn(model.config.vocab_size, model.config.hidden_size, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        model.embeddings.weight.copy_(vectors)
    model.embeddings.weight.requires_grad_(False)


def make_reviews(n=48, length=9):
    g = torch.Generator().manual_seed(15)
    ids = torch.randint(0, 70, (n, length), generator=g)
    labels = (ids < 35).sum(dim=1) > length // 2
    return [{"input_ids": ids[i], "labels": int(labels[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = SentimentModel(SentimentConfig())
    load_pretrained_word_vectors(model)
    model.gradient_checkpointing_enable()
    w0 = model.layers[0].mlp[0].weight.detach().clone()
    c0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_sentiment", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_reviews()).train()
    return {"model": model}, {"encoder_layers_changed": not torch.equal(w0, model.layers[0].mlp[0].weight),
                              "classifier_changed": not torch.equal(c0, model.classifier.weight)}

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
