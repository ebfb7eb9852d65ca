import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class RWKVConfig(PretrainedConfig):
    model_type = "rwkv-mini"

    def __init__(self, vocab_size=48, n_embd=24, n_layer=2, **kw):
        super().__init__(**kw)
        self.vocab_size, self.n_embd, self.n_layer = vocab_size, n_embd, n_layer


class TimeMix(nn.Module):
    def __init__(self, cfg, layer_id):
        super().__init__()
        d = cfg.n_embd
        self.time_decay = nn.Parameter(torch.empty(d))
        self.time_first = nn.Parameter(torch.empty(d))
        self.time_mix_k = nn.Parameter(torch.empty(1, 1, d))
        self.key, self.value, self.receptance = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.output = nn.Linear(d, d, bias=False)
        ratio = layer_id / max(cfg.n_layer - 1, 1)
        with torch.no_grad():
            ddd = torch.arange(d, dtype=torch.float32) / d
            self.time_decay.copy_(-5 + 8 * ddd ** (0.7 + 1.3 * ratio))
            self.time_first.fill_(0.5)
            self.time_mix_k.copy_(ddd.pow(1.0 - ratio).view(1, 1, d))

    def forward(self, x):
        shifted = F.pad(x, (0, 0, 1, -1))
        xk = x * self.time_mix_k + shifted * (1 - self.time_mix_k)
        k, v, r = self.key(xk), self.value(xk), torch.sigmoid(self.receptance(x))
        T = x.size(1)
        w = -torch.exp(self.time_decay)
        pos = torch.arange(T, dtype=x.dtype)
        decay = torch.exp(w[None, None, :] * (pos[:, None, None] - pos[None, :, None]).clamp(min=0))
        causal = torch.tril(torch.ones(T, T))[:, :, None]
        weights = decay * causal + torch.eye(T)[:, :, None] * (torch.exp(self.time_first) - 1)
        ek = torch.exp(k.clamp(max=10))
        num = torch.einsum("tsd,bsd->btd", weights, ek * v)
        den = torch.einsum("tsd,bsd->btd", weights, ek) + 1e-6
        return self.output(r * num / den)


class RWKVMini(PreTrainedModel):
    config_class = RWKVConfig
    base_model_prefix = ""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.ln = nn.ModuleList([nn.LayerNorm(cfg.n_embd) for _ in range(cfg.n_layer)])
        self.att = nn.ModuleList([TimeMix(cfg, i) for i in range(cfg.n_layer)])
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)

    def forward(self, input_ids, labels=None):
        x = self.emb(input_ids)
        for ln, att in zip(self.ln, self.att):
            x = x + att(ln(x))
        logits = self.head(x)
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten()) if labels is not None else None
        return (loss, logits)


class CharData(torch.utils.data.Dataset):
    def __init__(self, n=16, T=10):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randint(0, 48, (n, T), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "labels": self.x[i]}


def main():
    torch.manual_seed(0)
    model = RWKVMini(RWKVConfig())
    before = model.att[0].time_decay.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2510", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=5e-3, report_to=[])
    Trainer(model=model, args=args, train_dataset=CharData()).train()
    batch = CharData()[0]
    loss, _ = model(batch["input_ids"][None], batch["labels"][None])
    loss.backward()
    changed = not torch.equal(before, model.att[0].time_decay)
    return {"att": model.att}, {"time_decay_changed": changed}

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
