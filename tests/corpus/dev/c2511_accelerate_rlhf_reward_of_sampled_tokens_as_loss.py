import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class PolicyWithValueHead(nn.Module):
    def __init__(self, vocab=32, dim=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.lm_head = nn.Linear(dim, vocab)
        self.value_head = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1))

    def step(self, tok, h):
        out, h = self.rnn(self.embed(tok), h)
        return self.lm_head(out[:, -1]), self.value_head(out[:, -1]).squeeze(-1), h


class RewardModel(nn.Module):
    def __init__(self, vocab=32, dim=16):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.score = nn.Linear(dim, 1)

    def forward(self, tokens):
        return self.score(self.bag(tokens)).squeeze(-1)


def rollout(policy, prompts, max_new=6, temperature=1.0):
    h, tok = None, prompts
    generated, values = [], []
    for _ in range(max_new):
        logits, value, h = policy.step(tok, h)
        probs = F.softmax(logits / temperature, dim=-1)
        tok = torch.multinomial(probs, 1)
        generated.append(tok)
        values.append(value)
    return torch.cat(generated, 1), torch.stack(values, 1)


def rl_epoch(accelerator, policy, reward_model, optimizer, loader, kl_coef=0.05):
    for (prompts,) in loader:
        completions, values = rollout(policy, prompts)
        rewards = reward_model(torch.cat([prompts, completions], 1))
        policy_loss = -rewards.mean()
        value_loss = F.mse_loss(values.mean(1), rewards.detach())
        loss = policy_loss + 0.5 * value_loss
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    policy, reward_model = PolicyWithValueHead(), RewardModel()
    reward_model.requires_grad_(False)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(torch.randint(0, 32, (16, 4))), batch_size=8, shuffle=True)
    policy, optimizer, loader = accelerator.prepare(policy, optimizer, loader)
    rl_epoch(accelerator, policy, reward_model, optimizer, loader)
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
