import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import MaskedLMOutput


class ProtConfig(PretrainedConfig):
    model_type = "prot-mlm"

    def __init__(self, vocab_size=25, hidden_size=32, num_heads=4, num_layers=2, mask_token_id=3, pad_token_id=1, **kw):
        super().__init__(pad_token_id=pad_token_id, **kw)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.num_heads, self.num_layers, self.mask_token_id = num_heads, num_layers, mask_token_id


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x, L):
    d = x.shape[-1]
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
    freqs = torch.outer(torch.arange(L).float(), inv)
    emb = torch.cat([freqs, freqs], -1)
    return x * emb.cos() + rotate_half(x) * emb.sin()


class ProtSelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def forward(self, x, attention_mask):
        B, L, D = x.shape
        split = lambda t: t.view(B, L, self.h, self.dk).transpose(1, 2)
        q, k, v = apply_rotary(split(self.q(x)), L), apply_rotary(split(self.k(x)), L), split(self.v(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / self.dk ** 0.5, dim=-1)
        probs.masked_fill_(attention_mask[:, None, None, :] == 0, 0.0)
        return self.o((probs @ v).transpose(1, 2).reshape(B, L, D))


class ProtLayer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = ProtSelfAttention(d, heads)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.ffn(self.ln2(x))


class ProtForMaskedLM(PreTrainedModel):
    config_class = ProtConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.layers = nn.ModuleList([ProtLayer(config.hidden_size, config.num_heads) for _ in range(config.num_layers)])
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, attention_mask, labels=None):
        x = self.embed(input_ids)
        for layer in self.layers:
            x = layer(x, attention_mask)
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)
        return MaskedLMOutput(loss=loss, logits=logits)


class UniRefLike(torch.utils.data.Dataset):
    def __init__(self, n=32, L=16, cfg=None):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(4, 24, (n, L), generator=g)
        self.mask = torch.ones(n, L, dtype=torch.long)
        self.mask[::2, L - 4:] = 0
        self.ids[self.mask == 0] = 1
        pick = (torch.rand(n, L, generator=g) < 0.15) & (self.mask == 1)
        self.labels = torch.where(pick, self.ids, torch.full_like(self.ids, -100))
        self.inputs = torch.where(pick, torch.full_like(self.ids, 3), self.ids)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.inputs[i], "attention_mask": self.mask[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = ProtForMaskedLM(ProtConfig())
    q0 = model.layers[0].attn.q.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/prot-mlm", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=5e-4, report_to="none")
    Trainer(model=model, args=args, train_dataset=UniRefLike()).train()
    return {"model": model}, {"query_changed": not torch.equal(q0, model.layers[0].attn.q.weight)}

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
