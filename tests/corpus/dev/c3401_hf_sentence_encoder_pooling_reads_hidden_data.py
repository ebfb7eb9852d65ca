import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyEncoderConfig(PretrainedConfig):
    model_type = "tiny-sent-encoder"

    def __init__(self, vocab_size=80, hidden_size=32, num_layers=2, num_heads=4, max_len=16, num_labels=4, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        self.num_heads, self.max_len = num_heads, max_len


def masked_mean(hidden, attention_mask):
    """Sentence-transformers style mean pooling over the real tokens."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden.data * mask).sum(dim=1)
    return summed / mask.sum(dim=1).clamp(min=1.0)


class SentenceClassifier(PreTrainedModel):
    config_class = TinyEncoderConfig
    base_model_prefix = "encoder"

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden_size
        self.tok = nn.Embedding(config.vocab_size, h, padding_idx=0)
        self.pos = nn.Embedding(config.max_len, h)
        layer = nn.TransformerEncoderLayer(h, config.num_heads, 2 * h, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.num_layers)
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(h, config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(0.0, 0.05)
            if module.bias is not None:
                module.bias.data.zero_()

    def embed(self, input_ids, attention_mask):
        pos = torch.arange(input_ids.size(1), device=input_ids.device)
        h = self.tok(input_ids) + self.pos(pos)
        return self.encoder(h, src_key_padding_mask=attention_mask.eq(0))

    def forward(self, input_ids, attention_mask, labels=None):
        pooled = masked_mean(self.embed(input_ids, attention_mask), attention_mask)
        logits = self.head(self.dropout(pooled))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TopicDataset(Dataset):
    def __init__(self, n=32, seq=12):
        g = torch.Generator().manual_seed(1)
        self.ids = torch.randint(1, 80, (n, seq), generator=g)
        self.mask = torch.ones(n, seq, dtype=torch.long)
        self.mask[1::2, -3:] = 0
        self.ids[self.mask == 0] = 0
        self.labels = (self.ids[:, 0] % 4).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "labels": self.labels[i]}


def build_trainer(model, out_dir="/tmp/c3401_out"):
    args = TrainingArguments(output_dir=out_dir, per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=3e-3, warmup_ratio=0.1, weight_decay=0.01, report_to="none")
    return Trainer(model=model, args=args, train_dataset=TopicDataset())


def main():
    torch.manual_seed(0)
    model = SentenceClassifier(TinyEncoderConfig())
    tok0 = model.tok.weight.detach().clone()
    attn0 = model.encoder.layers[0].self_attn.in_proj_weight.detach().clone()
    head0 = model.head.weight.detach().clone()
    build_trainer(model).train()
    return {"model": model}, {
        "token_embedding_changed": not torch.equal(tok0, model.tok.weight),
        "encoder_attention_changed": not torch.equal(attn0, model.encoder.layers[0].self_attn.in_proj_weight),
        "head_changed": not torch.equal(head0, model.head.weight),
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
