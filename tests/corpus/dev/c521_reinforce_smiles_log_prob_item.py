import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

VOCAB = ["<bos>", "<eos>", "C", "O", "N", "(", ")", "=", "1"]


class SmilesGenerator(nn.Module):
    def __init__(self, vocab_size=len(VOCAB), emb=16, hidden=48):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def step(self, token, h):
        out, h = self.rnn(self.embed(token).unsqueeze(1), h)
        return self.head(out.squeeze(1)), h


def sample(generator, batch=6, max_len=8):
    token = torch.zeros(batch, dtype=torch.long)
    h, tokens, log_probs = None, [], []
    for _ in range(max_len):
        logits, h = generator.step(token, h)
        dist = Categorical(logits=logits)
        token = dist.sample()
        tokens.append(token)
        log_probs.append(dist.log_prob(token))
    return torch.stack(tokens, 1), torch.stack(log_probs, 1)


def reward(tokens):
    """Toy property predictor: rewards carbon-rich strings."""
    return [sum(1 for t in seq if VOCAB[t] == "C") / len(seq) for seq in tokens.tolist()]


def policy_gradient_step(generator, optimizer, gamma=0.97):
    tokens, log_probs = sample(generator)
    rewards = reward(tokens)
    rl_loss = torch.zeros(1, requires_grad=True)
    for i, r in enumerate(rewards):
        discounted = r
        for t in reversed(range(log_probs.shape[1])):
            rl_loss = rl_loss - log_probs[i, t].item() * discounted
            discounted = discounted * gamma
    rl_loss = rl_loss / len(rewards)
    optimizer.zero_grad()
    rl_loss.backward()
    optimizer.step()
    return rl_loss.item(), sum(rewards) / len(rewards)


def main():
    torch.manual_seed(0)
    generator = SmilesGenerator()
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    before = generator.head.weight.detach().clone()
    history = [policy_gradient_step(generator, optimizer) for _ in range(3)]
    return {"generator": generator}, {"generator_changed": not torch.equal(before, generator.head.weight)}

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
