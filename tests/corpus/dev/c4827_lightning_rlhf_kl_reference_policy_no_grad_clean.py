import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 36, "d": 32, "prompt_len": 5, "resp_len": 5, "n": 24, "kl_coef": 0.1, "clip": 0.2, "lr": 1e-3}


class CausalLM(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.rnn = nn.GRU(d, d, batch_first=True)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids):
        return self.head(self.rnn(self.embed(ids))[0])


def token_logprobs(logits, ids, prompt_len):
    logp = torch.log_softmax(logits[:, prompt_len - 1:-1], -1)
    return logp.gather(-1, ids[:, prompt_len:].unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def sample_responses(policy, prompts, resp_len):
    ids = prompts
    for _ in range(resp_len):
        nxt = torch.distributions.Categorical(logits=policy(ids)[:, -1]).sample()
        ids = torch.cat([ids, nxt[:, None]], 1)
    return ids


class RLHFModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.policy = CausalLM(cfg["vocab"], cfg["d"])
        self.ref_policy = copy.deepcopy(self.policy).requires_grad_(False).eval()

    def reward(self, ids):
        return (ids[:, self.cfg["prompt_len"]:] < self.cfg["vocab"] // 3).float().mean(-1)

    def training_step(self, batch, batch_idx):
        (ids, old_logp) = batch
        c = self.cfg
        logp = token_logprobs(self.policy(ids), ids, c["prompt_len"])
        with torch.no_grad():
            ref_logp = token_logprobs(self.ref_policy(ids), ids, c["prompt_len"])
            kl = (old_logp - ref_logp).sum(-1)
            adv = self.reward(ids) - c["kl_coef"] * kl
            adv = (adv - adv.mean()) / (adv.std() + 1e-6)
        ratio = torch.exp(logp.sum(-1) - old_logp.sum(-1))
        loss = -torch.min(ratio * adv, ratio.clamp(1 - c["clip"], 1 + c["clip"]) * adv).mean()
        self.log("kl", kl.mean().item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.policy.parameters(), lr=self.cfg["lr"])


def rollout_loader(module, cfg):
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(0, cfg["vocab"], (cfg["n"], cfg["prompt_len"]), generator=g)
    ids = sample_responses(module.policy, prompts, cfg["resp_len"])
    with torch.no_grad():
        old_logp = token_logprobs(module.policy(ids), ids, cfg["prompt_len"])
    return DataLoader(TensorDataset(ids, old_logp), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = RLHFModule(CFG)
    p0 = module.policy.head.weight.detach().clone()
    r0 = module.ref_policy.head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, rollout_loader(module, CFG))
    return {"policy": module.policy}, {
        "policy_changed": not torch.equal(p0, module.policy.head.weight),
        "reference_changed": not torch.equal(r0, module.ref_policy.head.weight),
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
