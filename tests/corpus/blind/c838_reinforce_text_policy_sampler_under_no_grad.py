import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

BOS, VOCAB = 0, 12


class GRUPolicy(nn.Module):
    def __init__(self, vocab=VOCAB, d=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.gru = nn.GRUCell(d, d)
        self.head = nn.Linear(d, vocab)
        self.d = d

    def step(self, token, h):
        h = self.gru(self.embed(token), h)
        return self.head(h), h


@torch.no_grad()
def sample_sequences(policy, batch, max_len=8, temperature=1.0):
    """Autoregressive sampling; also returns the log-probabilities of the sampled tokens."""
    token = torch.full((batch,), BOS, dtype=torch.long)
    h = torch.zeros(batch, policy.d)
    tokens, log_probs = [], []
    for _ in range(max_len):
        logits, h = policy.step(token, h)
        dist = Categorical(logits=logits / temperature)
        token = dist.sample()
        tokens.append(token)
        log_probs.append(dist.log_prob(token))
    return torch.stack(tokens, 1), torch.stack(log_probs, 1)


def reward_fn(tokens, target=7):
    return (tokens == target).float().mean(1)


class ReinforceTrainer:
    def __init__(self, policy, lr=1e-2, baseline_decay=0.9):
        self.policy = policy
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
        self.baseline, self.decay = 0.0, baseline_decay

    def update(self, batch=16):
        tokens, log_probs = sample_sequences(self.policy, batch)
        rewards = reward_fn(tokens)
        advantage = rewards - self.baseline
        self.baseline = self.decay * self.baseline + (1 - self.decay) * rewards.mean().item()
        loss = -(log_probs.sum(1) * advantage).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return rewards.mean().item()


def main():
    torch.manual_seed(0)
    policy = GRUPolicy()
    trainer = ReinforceTrainer(policy)
    for _ in range(3):
        trainer.update()
    return {"policy": policy}

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
