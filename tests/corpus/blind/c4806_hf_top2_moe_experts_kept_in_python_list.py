import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, SequenceClassifierOutput


class MoEConfig(PretrainedConfig):
    model_type = "tiny-top2-moe"

    def __init__(self, vocab_size=80, hidden=32, ffn=64, num_experts=4, top_k=2, aux_loss_coef=0.01, num_labels=3, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.ffn = vocab_size, hidden, ffn
        self.num_experts, self.top_k, self.aux_loss_coef = num_experts, top_k, aux_loss_coef


class ExpertFFN(nn.Module):
    def __init__(self, hidden, ffn):
        super().__init__()
        self.w_in = nn.Linear(hidden, ffn)
        self.w_out = nn.Linear(ffn, hidden)

    def forward(self, x):
        return self.w_out(F.gelu(self.w_in(x)))


class Top2MoELayer(nn.Module):
    """GShard-style top-2 gating with renormalized gate weights and a load-balancing auxiliary loss."""

    def __init__(self, config):
        super().__init__()
        self.top_k, self.num_experts = config.top_k, config.num_experts
        self.gate = nn.Linear(config.hidden, config.num_experts, bias=False)
        self.experts = [ExpertFFN(config.hidden, config.ffn) for _ in range(config.num_experts)]

    def forward(self, x):
        B, T, D = x.shape
        flat = x.reshape(-1, D)
        probs = torch.softmax(self.gate(flat), -1)
        weights, idx = probs.topk(self.top_k, dim=-1)
        weights = weights / weights.sum(-1, keepdim=True)
        out = torch.zeros_like(flat)
        for k in range(self.top_k):
            for e, expert in enumerate(self.experts):
                sel = idx[:, k] == e
                if sel.any():
                    out[sel] += weights[sel, k:k + 1] * expert(flat[sel])
        load = F.one_hot(idx[:, 0], self.num_experts).float().mean(0)
        aux = self.num_experts * (load * probs.mean(0)).sum()
        return out.reshape(B, T, D), aux


class MoEForSequenceClassification(PreTrainedModel):
    config_class = MoEConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.norm = nn.LayerNorm(config.hidden)
        self.moe = Top2MoELayer(config)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        y, aux = self.moe(self.norm(h))
        logits = self.classifier((h + y).mean(1))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels) + self.config.aux_loss_coef * aux
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TopicDataset(Dataset):
    def __init__(self, n=48, length=10):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, 3, (n,), generator=g)
        self.ids = torch.randint(0, 20, (n, length), generator=g) + 20 * self.labels[:, None]

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = MoEForSequenceClassification(MoEConfig())
    e0 = model.moe.experts[0].w_in.weight.detach().clone()
    g0 = model.moe.gate.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/top2-moe", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=TopicDataset())
    trainer.train()
    return {"model": model}, {
        "experts_changed": not torch.equal(e0, model.moe.experts[0].w_in.weight),
        "gate_changed": not torch.equal(g0, model.moe.gate.weight),
        "num_model_parameters": sum(1 for _ in model.parameters()),
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
