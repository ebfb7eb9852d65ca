import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, ModelOutput


class SwitchConfig(PretrainedConfig):
    model_type = "tiny-switch-enc"

    def __init__(self, vocab_size=64, hidden=32, ffn=48, num_experts=4, router_z_coef=1e-3, aux_coef=0.02, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.ffn, self.num_experts = vocab_size, hidden, ffn, num_experts
        self.router_z_coef, self.aux_coef = router_z_coef, aux_coef


class SwitchMLM(PreTrainedModel):
    config_class = SwitchConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.router = nn.Linear(config.hidden, config.num_experts, bias=False)
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(config.hidden, config.ffn), nn.ReLU(),
                                                   nn.Linear(config.ffn, config.hidden)) for _ in range(config.num_experts))
        self.lm_head = nn.Linear(config.hidden, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        flat = h.reshape(-1, h.shape[-1])
        logits_r = self.router(flat)
        probs = torch.softmax(logits_r, -1)
        gate, idx = probs.max(-1)
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            sel = idx == e
            if sel.any():
                out[sel] = gate[sel, None] * expert(flat[sel])
        logits = self.lm_head(h + out.reshape_as(h))
        return ModelOutput(logits=logits, router_logits=logits_r, router_probs=probs, expert_index=idx)


class SwitchTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = model(input_ids=inputs["input_ids"])
        labels = inputs["labels"]
        lm = F.cross_entropy(out["logits"].reshape(-1, out["logits"].shape[-1]), labels.reshape(-1), ignore_index=-100)
        n = model.config.num_experts
        tokens_per_expert = F.one_hot(out["expert_index"], n).float().mean(0).detach()
        aux = n * (tokens_per_expert * out["router_probs"].mean(0)).sum()
        z_loss = torch.logsumexp(out["router_logits"], -1).pow(2).mean()
        loss = lm + model.config.aux_coef * aux + model.config.router_z_coef * z_loss
        self.log({"aux": aux.item(), "z": z_loss.item()})
        return (loss, out) if return_outputs else loss


class MaskedTokens(Dataset):
    def __init__(self, n=40, length=12, vocab=64):
        g = torch.Generator().manual_seed(0)
        self.ids = (torch.randint(0, vocab // 4, (n, 1), generator=g) * 4 + torch.arange(length)) % vocab
        self.labels = torch.full_like(self.ids, -100)
        mask = torch.rand(self.ids.shape, generator=g) < 0.3
        self.labels[mask] = self.ids[mask]
        self.inputs = self.ids.masked_fill(mask, vocab - 1)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.inputs[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = SwitchMLM(SwitchConfig())
    r0 = model.router.weight.detach().clone()
    e0 = model.experts[1][0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/switch-mlm", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, remove_unused_columns=False, report_to="none")
    SwitchTrainer(model=model, args=args, train_dataset=MaskedTokens()).train()
    return {"model": model}, {
        "router_changed": not torch.equal(r0, model.router.weight),
        "experts_changed": not torch.equal(e0, model.experts[1][0].weight),
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
