import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MiniBertConfig(PretrainedConfig):
    model_type = "mini-bert"

    def __init__(self, vocab_size=60, hidden_size=32, num_layers=2, num_heads=4, max_len=16, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        self.num_heads, self.max_len = num_heads, max_len


class MiniBertForSequenceClassification(PreTrainedModel):
    config_class = MiniBertConfig
    base_model_prefix = "encoder"

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, h, padding_idx=0)
        self.position_embeddings = nn.Embedding(config.max_len, h)
        layer = nn.TransformerEncoderLayer(h, config.num_heads, 4 * h, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.num_layers)
        self.pooler = nn.Sequential(nn.Linear(h, h), nn.Tanh())
        self.classifier = nn.Linear(h, config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(0.0, 0.02)

    def forward(self, input_ids, attention_mask=None, labels=None):
        pos = torch.arange(input_ids.size(1), device=input_ids.device)
        h = self.word_embeddings(input_ids) + self.position_embeddings(pos)
        pad = attention_mask.eq(0) if attention_mask is not None else None
        h = self.encoder(h, src_key_padding_mask=pad)
        logits = self.classifier(self.pooler(h[:, 0]))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_for_linear_probe(model, train_pooler=True):
    """Keep the pretrained encoder fixed; only the pooler/classifier adapt to the new labels."""
    model.requires_grad_(False)
    model.classifier.requires_grad = True
    if train_pooler:
        model.pooler.requires_grad = True
    return model


class IntentDataset(Dataset):
    def __init__(self, n=24, seq=12):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 60, (n, seq), generator=g)
        self.mask = torch.ones(n, seq, dtype=torch.long)
        self.mask[::3, -4:] = 0
        self.labels = (self.ids[:, 1] % 3).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "label": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = freeze_for_linear_probe(MiniBertForSequenceClassification(MiniBertConfig()))
    args = TrainingArguments(output_dir="/tmp/c3313_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=IntentDataset())
    head0 = model.classifier.weight.detach().clone()
    trainer.train()
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"model": model}, {"n_trainable": n_trainable,
                              "classifier_changed": not torch.equal(head0, model.classifier.weight)}

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
