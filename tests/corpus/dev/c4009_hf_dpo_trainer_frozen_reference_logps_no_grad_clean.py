import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class TinyLMConfig(PretrainedConfig):
    model_type = "tiny_lm"

    def __init__(self, vocab=24, d_model=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab, self.d_model = vocab, d_model


class TinyCausalLM(PreTrainedModel):
    config_class = TinyLMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab, config.d_model)
        self.mixer = nn.GRU(config.d_model, config.d_model, batch_first=True)
        self.lm_head = nn.Linear(config.d_model, config.vocab)
        self.post_init()

    def forward(self, input_ids=None, **kwargs):
        h, _ = self.mixer(self.embed(input_ids))
        return ModelOutput(logits=self.lm_head(h))


def sequence_logps(model, input_ids, prompt_len):
    logits = model(input_ids=input_ids[:, :-1]).logits
    logps = logits.log_softmax(-1).gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return logps[:, prompt_len - 1:].sum(-1)


class DPOTrainer(Trainer):
    def __init__(self, *args, ref_model=None, beta=0.1, prompt_len=3, **kwargs):
        super().__init__(*args, **kwargs)
        self.ref_model = ref_model.eval().requires_grad_(False)
        self.beta, self.prompt_len = beta, prompt_len

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        pi_c = sequence_logps(model, inputs["chosen_ids"], self.prompt_len)
        pi_r = sequence_logps(model, inputs["rejected_ids"], self.prompt_len)
        with torch.no_grad():
            ref_c = sequence_logps(self.ref_model, inputs["chosen_ids"], self.prompt_len)
            ref_r = sequence_logps(self.ref_model, inputs["rejected_ids"], self.prompt_len)
        margin = self.beta * ((pi_c - ref_c) - (pi_r - ref_r))
        loss = -F.logsigmoid(margin).mean()
        self.log({"reward_margin": margin.mean().item()})
        return (loss, {"margin": margin}) if return_outputs else loss


def preference_pairs(n=32, vocab=24, prompt_len=3, resp_len=4):
    g = torch.Generator().manual_seed(0)
    pairs = []
    for _ in range(n):
        prompt = torch.randint(0, vocab, (prompt_len,), generator=g)
        chosen = torch.arange(resp_len) % vocab
        rejected = torch.randint(0, vocab, (resp_len,), generator=g)
        pairs.append({"chosen_ids": torch.cat([prompt, chosen]), "rejected_ids": torch.cat([prompt, rejected])})
    return pairs


def main():
    torch.manual_seed(0)
    policy = TinyCausalLM(TinyLMConfig())
    reference = copy.deepcopy(policy)
    head0 = policy.lm_head.weight.detach().clone()
    ref0 = reference.lm_head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/dpo", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, remove_unused_columns=False, report_to="none")
    trainer = DPOTrainer(model=policy, args=args, train_dataset=preference_pairs(), ref_model=reference)
    trainer.train()
    return {}, {
        "policy_changed": not torch.equal(head0, policy.lm_head.weight),
        "reference_unchanged": torch.equal(ref0, reference.lm_head.weight),
        "margin_logged": any("reward_margin" in rec for rec in trainer.state.log_history),
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
