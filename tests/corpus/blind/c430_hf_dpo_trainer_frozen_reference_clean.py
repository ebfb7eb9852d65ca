import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import (PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments,
                          CausalLMOutput)


class TinyLMConfig(PretrainedConfig):
    model_type = "tiny-lm"

    def __init__(self, vocab_size=32, hidden_size=32, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size


class TinyCausalLM(PreTrainedModel):
    config_class = TinyLMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h, _ = self.rnn(self.embed(input_ids))
        return CausalLMOutput(logits=self.lm_head(h))


def sequence_logps(model, ids):
    logits = model(input_ids=ids).logits[:, :-1]
    return torch.log_softmax(logits, -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1).sum(-1)


class DPOTrainer(Trainer):
    def __init__(self, ref_model, beta=0.1, **kwargs):
        super().__init__(**kwargs)
        self.ref_model = ref_model
        self.beta = beta
        self.margins = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        chosen, rejected = inputs["chosen_ids"], inputs["rejected_ids"]
        pi_chosen, pi_rejected = sequence_logps(model, chosen), sequence_logps(model, rejected)
        with torch.no_grad():
            ref_chosen, ref_rejected = sequence_logps(self.ref_model, chosen), sequence_logps(self.ref_model, rejected)
        margin = self.beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
        loss = -F.logsigmoid(margin).mean()
        self.margins.append(margin.detach().mean().item())
        return (loss, {"margin": margin}) if return_outputs else loss


class GradProbe(TrainerCallback):
    def __init__(self):
        self.head_grad_nonzero, self.ref_grad_seen = [], []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.head_grad_nonzero.append(bool(model.lm_head.weight.grad is not None and model.lm_head.weight.grad.abs().sum() > 0))


def make_preference_data(n=64, length=8, vocab=32):
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(2, vocab, (n, length // 2), generator=g)
    chosen = torch.cat([prompts, prompts.flip(1)], dim=1)
    rejected = torch.cat([prompts, torch.randint(2, vocab, (n, length // 2), generator=g)], dim=1)
    return [{"chosen_ids": chosen[i], "rejected_ids": rejected[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    policy = TinyCausalLM(TinyLMConfig())
    ref_model = copy.deepcopy(policy).eval()
    ref_model.requires_grad_(False)
    ref_before = ref_model.lm_head.weight.clone()
    policy_before = policy.lm_head.weight.detach().clone()
    probe = GradProbe()
    args = TrainingArguments(output_dir="dpo_out", per_device_train_batch_size=16, num_train_epochs=3,
                             learning_rate=5e-3, remove_unused_columns=False, report_to="none", max_grad_norm=1.0)
    trainer = DPOTrainer(ref_model=ref_model, beta=0.5, model=policy, args=args,
                         train_dataset=make_preference_data(), callbacks=[probe])
    trainer.train()
    facts = {"policy_changed": not torch.equal(policy_before, policy.lm_head.weight.detach()),
             "reference_unchanged": torch.equal(ref_before, ref_model.lm_head.weight),
             "reference_has_grad": ref_model.lm_head.weight.grad is not None,
             "policy_head_got_grads": all(probe.head_grad_nonzero),
             "margin_increased": trainer.margins[-1] > trainer.margins[0]}
    return {"ref_model": ref_model}, facts

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
