import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput

PEFT = {"num_virtual_tokens": 4, "prefix_hidden": 32, "trainable": ("prefix_encoder", "classifier")}


class TinyLMConfig(PretrainedConfig):
    model_type = "tiny-lm"

    def __init__(self, vocab_size=50, hidden=32, heads=4, layers=2, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.heads, self.layers = vocab_size, hidden, heads, layers


class PrefixAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h = heads
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x, past_key_value=None):
        B, T, D = x.shape
        q, k, v = (t.view(B, T, self.h, -1).transpose(1, 2) for t in self.qkv(x).chunk(3, dim=-1))
        if past_key_value is not None:
            pk, pv = past_key_value
            k, v = torch.cat([pk, k], dim=2), torch.cat([pv, v], dim=2)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // self.h), dim=-1)
        return self.out((att @ v).transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d), PrefixAttention(d, heads)
        self.ln2, self.mlp = nn.LayerNorm(d), nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, past_key_value=None):
        x = x + self.attn(self.ln1(x), past_key_value)
        return x + self.mlp(self.ln2(x))


class PrefixEncoder(nn.Module):
    """Reparameterized prefix (Li & Liang): embedding -> MLP -> per-layer key/value prefixes."""

    def __init__(self, cfg, peft):
        super().__init__()
        self.n, self.layers, self.heads, self.d = peft["num_virtual_tokens"], cfg.layers, cfg.heads, cfg.hidden
        self.embedding = nn.Embedding(self.n, cfg.hidden)
        self.trans = nn.Sequential(nn.Linear(cfg.hidden, peft["prefix_hidden"]), nn.Tanh(),
                                   nn.Linear(peft["prefix_hidden"], 2 * cfg.layers * cfg.hidden))

    def forward(self, prefix_ids):
        B = prefix_ids.shape[0]
        kv = self.trans(self.embedding(prefix_ids))
        kv = kv.view(B, self.n, 2 * self.layers, self.heads, self.d // self.heads).permute(2, 0, 3, 1, 4)
        return [(kv[2 * i], kv[2 * i + 1]) for i in range(self.layers)]


class PrefixTunedClassifier(PreTrainedModel):
    config_class = TinyLMConfig

    def __init__(self, config, peft=PEFT):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.hidden)
        self.blocks = nn.ModuleList([Block(config.hidden, config.heads) for _ in range(config.layers)])
        self.prefix_encoder = PrefixEncoder(config, peft)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.register_buffer("prefix_tokens", torch.arange(peft["num_virtual_tokens"]))
        self.post_init()

    @torch.no_grad()
    def get_prompt(self, batch_size):
        """past_key_values for the virtual tokens (also used by generate())."""
        return self.prefix_encoder(self.prefix_tokens.unsqueeze(0).expand(batch_size, -1))

    def forward(self, input_ids, labels=None):
        past = self.get_prompt(input_ids.shape[0])
        x = self.wte(input_ids)
        for block, kv in zip(self.blocks, past):
            x = block(x, kv)
        logits = self.classifier(x[:, -1])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_backbone(model, peft):
    for name, p in model.named_parameters():
        p.requires_grad = name.split(".")[0] in peft["trainable"]
    return model


class SentimentDataset(torch.utils.data.Dataset):
    def __init__(self, n=48, T=8, vocab=50):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, vocab, (n, T), generator=g)
        self.y = (self.ids[:, -1] > vocab // 2).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = freeze_backbone(PrefixTunedClassifier(TinyLMConfig()), PEFT)
    emb0 = model.prefix_encoder.embedding.weight.detach().clone()
    mlp0 = model.prefix_encoder.trans[0].weight.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/prefix", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=SentimentDataset()).train()
    return {"model": model}, {
        "prefix_embedding_changed": not torch.equal(emb0, model.prefix_encoder.embedding.weight),
        "prefix_mlp_changed": not torch.equal(mlp0, model.prefix_encoder.trans[0].weight),
        "classifier_changed": not torch.equal(cls0, model.classifier.weight),
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
