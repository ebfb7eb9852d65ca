import torch
import torch.nn as nn


class BanditPolicy(nn.Module):
    def __init__(self, ctx_dim=8, n_arms=5):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(ctx_dim, 32), nn.ReLU(), nn.Linear(32, n_arms))

    def forward(self, ctx):
        return torch.log_softmax(self.net(ctx), dim=-1)


class ReinforceTrainer:
    def __init__(self, policy, lr=1e-2, momentum=0.9):
        self.policy = torch.compile(policy, backend="eager")
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
        self.momentum = momentum
        self.baseline = torch.zeros(())

    def expected_reward(self, log_probs, reward_table):
        return (log_probs.exp() * reward_table).sum(-1).mean()

    def step(self, ctx, reward_table):
        log_probs = self.policy(ctx)
        arms = torch.distributions.Categorical(logits=log_probs).sample()
        rewards = reward_table.gather(1, arms[:, None]).squeeze(1)
        self.baseline = self.momentum * self.baseline + (1 - self.momentum) * self.expected_reward(log_probs, reward_table)
        advantage = rewards - self.baseline
        loss = -(log_probs.gather(1, arms[:, None]).squeeze(1) * advantage).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return rewards.mean().item()


def main():
    torch.manual_seed(0)
    policy = BanditPolicy()
    trainer = ReinforceTrainer(policy)
    w = torch.randn(8, 5)
    for step in range(5):
        ctx = torch.randn(16, 8)
        trainer.step(ctx, torch.sigmoid(ctx @ w))
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
