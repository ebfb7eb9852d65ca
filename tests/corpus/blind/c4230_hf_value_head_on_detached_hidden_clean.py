import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class PolicyConfig(PretrainedConfig):
    model_type = "tiny_policy"

    def __init__(self, vocab=24, d_model=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab, self.d_model = vocab, d_model


class CausalLMWithValueHead(PreTrainedModel):
    config_class = PolicyConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab, config.d_model)
        self.body = nn.GRU(config.d_model, config.d_model, batch_first=True)
        self.lm_head = nn.Linear(config.d_model, config.vocab)
        self.v_head = nn.Sequential(nn.Linear(config.d_model, config.d_model), nn.Tanh(), nn.Linear(config.d_model, 1))
        self.post_init()

    def forward(self, input_ids=None, **kwargs):
        hidden, _ = self.body(self.embed(input_ids))
        values = self.v_head(hidden.detach()).squeeze(-1)
        return ModelOutput(logits=self.lm_head(hidden), values=values)


class PPOTrainer(Trainer):
    def __init__(self, *args, clip=0.2, vf_coef=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.clip, self.vf_coef = clip, vf_coef

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = model(input_ids=inputs["input_ids"])
        logps = out.logits.log_softmax(-1).gather(-1, inputs["actions"].unsqueeze(-1)).squeeze(-1)
        ratio = torch.exp(logps - inputs["old_logps"])
        adv = inputs["advantages"]
        pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - self.clip, 1 + self.clip)).mean()
        vf_loss = F.mse_loss(out.values, inputs["returns"])
        self.log({"ppo/clipfrac": ((ratio - 1).abs() > self.clip).float().mean().item(), "ppo/vf": vf_loss.item()})
        loss = pg_loss + self.vf_coef * vf_loss
        return (loss, out) if return_outputs else loss


def rollouts(n=16, t=5, vocab=24):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, vocab, (t,), generator=g)
        rows.append({"input_ids": ids, "actions": torch.roll(ids, -1), "old_logps": torch.full((t,), -3.2),
                     "advantages": torch.randn(t, generator=g), "returns": torch.randn(t, generator=g)})
    return rows


def main():
    torch.manual_seed(0)
    model = CausalLMWithValueHead(PolicyConfig())
    v0 = model.v_head[2].weight.detach().clone()
    p0 = model.lm_head.weight.detach().clone()
    b0 = model.body.weight_ih_l0.detach().clone()
    args = TrainingArguments(output_dir="/tmp/ppo_vhead", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, remove_unused_columns=False, report_to="none")
    trainer = PPOTrainer(model=model, args=args, train_dataset=rollouts())
    trainer.train()
    return {"model": model}, {
        "value_head_changed": not torch.equal(v0, model.v_head[2].weight),
        "policy_head_changed": not torch.equal(p0, model.lm_head.weight),
        "body_changed": not torch.equal(b0, model.body.weight_ih_l0),
        "value_loss_logged": any("ppo/vf" in rec for rec in trainer.state.log_history),
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
