import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import CausalLMOutput


class MoEConfig(PretrainedConfig):
    model_type = "tiny-switch"

    def __init__(self, vocab_size=48, hidden=32, n_experts=4, ff=64, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.n_experts, self.ff = vocab_size, hidden, n_experts, ff


class SwitchFFN(nn.Module):
    def __init__(self, d, ff, n_experts):
        super().__init__()
        self.router = nn.Linear(d, n_experts, bias=False)
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))
                                     for _ in range(n_experts))

    def forward(self, x):
        flat = x.reshape(-1, x.size(-1))
        probs = self.router(flat).softmax(-1)
        choice = F.one_hot(probs.argmax(-1), len(self.experts)).float()
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            sel = choice[:, e].bool()
            if sel.any():
                out[sel] = expert(flat[sel]) * choice[sel, e:e + 1]
        aux = (choice.mean(0) * probs.detach().mean(0)).sum() * len(self.experts)
        return out.view_as(x), aux


class TinySwitchLM(PreTrainedModel):
    config_class = MoEConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.norm = nn.LayerNorm(config.hidden)
        self.moe = SwitchFFN(config.hidden, config.ff, config.n_experts)
        self.lm_head = nn.Linear(config.hidden, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        moe_out, aux = self.moe(self.norm(h))
        logits = self.lm_head(h + moe_out)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
            loss = loss + 0.01 * aux
        return CausalLMOutput(loss=loss, logits=logits)


class RouterGradProbe(TrainerCallback):
    def __init__(self):
        self.router_grad_seen = False

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        g = model.moe.router.weight.grad
        self.router_grad_seen |= g is not None and bool(g.abs().sum() > 0)


class TokenStream(Dataset):
    def __init__(self, n=32, seq=12):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 48, (n, seq), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main():
    torch.manual_seed(0)
    model = TinySwitchLM(MoEConfig())
    probe = RouterGradProbe()
    args = TrainingArguments(output_dir="/tmp/c3316_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=3e-3, report_to="none")
    r0 = model.moe.router.weight.detach().clone()
    Trainer(model=model, args=args, train_dataset=TokenStream(), callbacks=[probe]).train()
    facts = {"router_grad_seen": probe.router_grad_seen,
             "router_changed": not torch.equal(r0, model.moe.router.weight)}
    return {"model": model}, facts

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
