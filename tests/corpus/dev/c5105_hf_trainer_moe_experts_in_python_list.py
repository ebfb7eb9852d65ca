import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class MoEConfig(PretrainedConfig):
    model_type = "tiny-moe"

    def __init__(self, vocab_size=50, hidden=32, n_experts=4, top_k=2, balance_coef=0.01, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.n_experts = vocab_size, hidden, n_experts
        self.top_k, self.balance_coef = top_k, balance_coef


class Expert(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(hidden, 2 * hidden), nn.Linear(2 * hidden, hidden)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class TopKMoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.top_k = cfg.top_k
        self.router = nn.Linear(cfg.hidden, cfg.n_experts, bias=False)
        self.experts = [Expert(cfg.hidden) for _ in range(cfg.n_experts)]

    def forward(self, x):
        probs = self.router(x).softmax(-1)                           # (T, E)
        weights, idx = probs.topk(self.top_k, dim=-1)
        weights = weights / weights.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            rows, slot = (idx == e).nonzero(as_tuple=True)
            if rows.numel():
                out = out.index_add(0, rows, weights[rows, slot].unsqueeze(-1) * expert(x[rows]))
        frac = F.one_hot(idx[:, 0], probs.size(-1)).float().mean(0)
        balance = probs.size(-1) * (frac * probs.mean(0)).sum()
        return x + out, balance


class MoEClassifier(PreTrainedModel):
    config_class = MoEConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.moe = TopKMoE(config)
        self.head = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        B, T, H = h.shape
        h, balance = self.moe(h.reshape(B * T, H))
        logits = self.head(h.reshape(B, T, H).mean(1))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels) + self.config.balance_coef * balance
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=48, seq=6, vocab=50):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    labels = (ids[:, 0] % 2).tolist()
    return [{"input_ids": ids[i], "label": labels[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = MoEClassifier(MoEConfig(num_labels=2))
    expert0 = model.moe.experts[0].fc1.weight.detach().clone()
    router0 = model.moe.router.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none")
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    return {"model": model}, {
        "experts_changed": not torch.equal(expert0, model.moe.experts[0].fc1.weight),
        "router_changed": not torch.equal(router0, model.moe.router.weight),
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
