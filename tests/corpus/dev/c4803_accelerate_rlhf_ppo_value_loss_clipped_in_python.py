import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed

CFG = {"vocab": 40, "d": 32, "prompt_len": 6, "resp_len": 6, "n_prompts": 16, "batch": 8,
       "ppo_epochs": 2, "clip": 0.2, "vf_clip": 0.2, "vf_coef": 0.5, "kl_coef": 0.05,
       "gamma": 1.0, "lam": 0.95, "lr": 1e-3}


class PolicyWithValueHead(nn.Module):
    """Small causal LM with a scalar value head on the last hidden state (TRL-style)."""

    def __init__(self, vocab, d):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.body = nn.GRU(d, d, batch_first=True)
        self.lm_head = nn.Linear(d, vocab)
        self.v_head = nn.Sequential(nn.Dropout(0.0), nn.Linear(d, 1))

    def forward(self, ids):
        h, _ = self.body(self.embed(ids))
        return self.lm_head(h), self.v_head(h).squeeze(-1)


def response_logprobs(logits, ids, prompt_len):
    logp = torch.log_softmax(logits[:, prompt_len - 1:-1], dim=-1)
    return logp.gather(-1, ids[:, prompt_len:].unsqueeze(-1)).squeeze(-1)


def reward_fn(responses):
    """Toy reward model score: prefers even tokens."""
    return (responses % 2 == 0).float().mean(-1) * 2 - 1


@torch.no_grad()
def rollout(policy, ref_policy, prompts, cfg):
    ids = prompts
    for _ in range(cfg["resp_len"]):
        logits, _ = policy(ids)
        nxt = torch.distributions.Categorical(logits=logits[:, -1]).sample()
        ids = torch.cat([ids, nxt.unsqueeze(-1)], dim=1)
    logits, values = policy(ids)
    old_logp = response_logprobs(logits, ids, cfg["prompt_len"])
    ref_logits, _ = ref_policy(ids)
    ref_logp = response_logprobs(ref_logits, ids, cfg["prompt_len"])
    rewards = -cfg["kl_coef"] * (old_logp - ref_logp)
    rewards[:, -1] += reward_fn(ids[:, cfg["prompt_len"]:])
    old_values = values[:, cfg["prompt_len"] - 1:-1]
    adv = torch.zeros_like(rewards)
    last = torch.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        nxt_v = old_values[:, t + 1] if t + 1 < rewards.shape[1] else torch.zeros(rewards.shape[0])
        delta = rewards[:, t] + cfg["gamma"] * nxt_v - old_values[:, t]
        last = delta + cfg["gamma"] * cfg["lam"] * last
        adv[:, t] = last
    returns = adv + old_values
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    return ids, old_logp, old_values, returns, adv


def clipped_value_loss(values, old_values, returns, clip):
    """PPO2 value clipping (written element-wise while hunting a NaN in the value head)."""
    vals = values.flatten().tolist()
    olds = old_values.flatten().tolist()
    clipped = [min(max(v, o - clip), o + clip) for v, o in zip(vals, olds)]
    v = torch.tensor(vals).view_as(returns)
    vc = torch.tensor(clipped).view_as(returns)
    return 0.5 * torch.max((v - returns) ** 2, (vc - returns) ** 2).mean()


def ppo_update(accelerator, policy, optimizer, loader, cfg):
    for _ in range(cfg["ppo_epochs"]):
        for ids, old_logp, old_values, returns, adv in loader:
            logits, values = policy(ids)
            logp = response_logprobs(logits, ids, cfg["prompt_len"])
            ratio = torch.exp(logp - old_logp)
            pg_loss = -torch.min(ratio * adv, ratio.clamp(1 - cfg["clip"], 1 + cfg["clip"]) * adv).mean()
            v_loss = clipped_value_loss(values[:, cfg["prompt_len"] - 1:-1], old_values, returns, cfg["vf_clip"])
            loss = pg_loss + cfg["vf_coef"] * v_loss
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    policy = PolicyWithValueHead(CFG["vocab"], CFG["d"])
    ref_policy = copy.deepcopy(policy).requires_grad_(False).eval()
    optimizer = torch.optim.Adam(policy.parameters(), lr=CFG["lr"])
    policy, optimizer = accelerator.prepare(policy, optimizer)
    v0 = policy.v_head[1].weight.detach().clone()
    lm0 = policy.lm_head.weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(0, CFG["vocab"], (CFG["n_prompts"], CFG["prompt_len"]), generator=g)
    for _ in range(2):
        batch = rollout(policy, ref_policy, prompts, CFG)
        loader = accelerator.prepare(DataLoader(TensorDataset(*batch), batch_size=CFG["batch"], shuffle=True))
        ppo_update(accelerator, policy, optimizer, loader, CFG)
    return {"policy": policy}, {
        "value_head_changed": not torch.equal(v0, policy.v_head[1].weight),
        "policy_changed": not torch.equal(lm0, policy.lm_head.weight),
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
