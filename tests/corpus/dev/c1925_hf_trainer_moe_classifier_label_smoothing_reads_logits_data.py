import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class MoEConfig(PretrainedConfig):
    model_type = "tiny-moe"

    def __init__(self, vocab_size=64, hidden_size=16, n_experts=4, num_labels=4, aux_weight=0.01, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.n_experts, self.aux_weight = vocab_size, hidden_size, n_experts, aux_weight


class SparseMoE(nn.Module):
    def __init__(self, dim, n_experts):
        super().__init__()
        self.router = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
                                     for _ in range(n_experts))

    def forward(self, x):
        probs = self.router(x).softmax(dim=-1)
        top_p, top_i = probs.max(dim=-1)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            sel = top_i == e
            if sel.any():
                out[sel] = top_p[sel, None] * expert(x[sel])
        load = F.one_hot(top_i, probs.size(-1)).float().mean(dim=(0, 1))
        aux = probs.size(-1) * (load * probs.mean(dim=(0, 1))).sum()  # Switch load-balancing loss
        return x + out, aux


class MoEClassifier(PreTrainedModel):
    config_class = MoEConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.moe = SparseMoE(config.hidden_size, config.n_experts)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h, aux = self.moe(self.embed(input_ids))
        logits = self.classifier(self.norm(h).mean(dim=1))
        return ModelOutput(logits=logits, aux_loss=aux)


class SmoothedMoETrainer(Trainer):
    def __init__(self, *args, smoothing=0.1, **kwargs):
        super().__init__(*args, **kwargs)
        self.smoothing = smoothing

    def smoothed_ce(self, logits, labels):
        n = logits.size(-1)
        log_probs = F.log_softmax(logits.data, dim=-1)
        target = torch.full_like(log_probs, self.smoothing / (n - 1))
        target.scatter_(1, labels[:, None], 1 - self.smoothing)
        return -(target * log_probs).sum(dim=-1).mean()

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = self.smoothed_ce(outputs["logits"], labels) + model.config.aux_weight * outputs["aux_loss"]
        return (loss, outputs) if return_outputs else loss


def main():
    torch.manual_seed(0)
    ids = torch.randint(0, 64, (32, 6))
    data = [{"input_ids": ids[i], "label": int(ids[i, 0] % 4)} for i in range(32)]
    model = MoEClassifier(MoEConfig())
    c0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/moe-cls", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    trainer = SmoothedMoETrainer(model=model, args=args, train_dataset=data, smoothing=0.1)
    trainer.train()
    batch = {"input_ids": ids[:8], "labels": torch.tensor([d["label"] for d in data[:8]])}
    model.zero_grad(set_to_none=True)
    trainer.compute_loss(model, dict(batch)).backward()
    return {"model": model}, {"classifier_changed": not torch.equal(c0, model.classifier.weight)}

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
