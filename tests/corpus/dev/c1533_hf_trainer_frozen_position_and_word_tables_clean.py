import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class MiniBertConfig(PretrainedConfig):
    model_type = "mini-bert"

    def __init__(self, vocab_size=80, hidden_size=16, max_position=16, num_layers=2, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.max_position, self.num_layers = max_position, num_layers


class Embeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size)

    def forward(self, input_ids):
        pos = torch.arange(input_ids.size(1)).unsqueeze(0)
        return self.layer_norm(self.word_embeddings(input_ids) + self.position_embeddings(pos))


class MiniBertForClassification(PreTrainedModel):
    config_class = MiniBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = Embeddings(config)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        h = self.encoder(self.embeddings(input_ids), src_key_padding_mask=attention_mask == 0)
        logits = self.classifier(h[:, 0])
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_embedding_tables(model, freeze_words=True):
    """Keep the pretrained position table (and optionally the word table) fixed during fine-tuning."""
    for name, param in model.named_parameters():
        if name.startswith("embeddings.position_embeddings"):
            param.requires_grad = False
    if freeze_words:
        model.embeddings.word_embeddings.weight.requires_grad_(False)


def make_dataset(n=40, length=10):
    g = torch.Generator().manual_seed(17)
    ids = torch.randint(1, 80, (n, length), generator=g)
    labels = (ids[:, 1] > 40).long()
    return [{"input_ids": ids[i], "attention_mask": torch.ones(length, dtype=torch.long), "labels": int(labels[i])}
            for i in range(n)]


def main():
    torch.manual_seed(0)
    model = MiniBertForClassification(MiniBertConfig())
    freeze_embedding_tables(model)
    snap = {k: v.detach().clone() for k, v in model.state_dict().items()}
    args = TrainingArguments(output_dir="tmp_minibert", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-3, warmup_ratio=0.1, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    now = model.state_dict()
    changed = lambda k: not torch.equal(snap[k], now[k])
    return {"model": model}, {"classifier_changed": changed("classifier.weight"),
                              "encoder_changed": changed("encoder.layers.0.linear1.weight"),
                              "embedding_norm_changed": changed("embeddings.layer_norm.weight"),
                              "position_table_changed": changed("embeddings.position_embeddings.weight")}

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
