import torch
import torch.nn as nn
import torch.nn.functional as F


class RecurrentPolicy(nn.Module):
    def __init__(self, obs_dim=6, hid=20, n_actions=3):
        super().__init__()
        self.encoder = nn.Linear(obs_dim, hid)
        self.lstm = nn.LSTMCell(hid, hid)
        self.action_head = nn.Linear(hid, n_actions)
        self.value_head = nn.Linear(hid, 1)
        self.hid = hid

    def init_hidden(self, batch):
        return torch.zeros(batch, self.hid), torch.zeros(batch, self.hid)

    def forward(self, obs, prev_hid):
        h, c = self.lstm(torch.tanh(self.encoder(obs)), prev_hid)
        return F.log_softmax(self.action_head(h), dim=-1), self.value_head(h).squeeze(-1), (h, c)


def run_episode(policy, env_obs, detach_gap, generator):
    prev_hid = policy.init_hidden(env_obs.size(1))
    log_probs, values, rewards = [], [], []
    for t in range(env_obs.size(0)):
        if (t + 1) % detach_gap == 0:
            prev_hid = (prev_hid[0].detach(), prev_hid[1].detach())
        logp, value, prev_hid = policy(env_obs[t], prev_hid)
        action = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(-1)
        log_probs.append(logp.gather(1, action[:, None]).squeeze(1))
        values.append(value)
        rewards.append((action == env_obs[t, :, :3].argmax(dim=1)).float())
    return torch.stack(log_probs), torch.stack(values), torch.stack(rewards)


def a2c_loss(log_probs, values, rewards, gamma=0.9):
    returns, running = [], torch.zeros_like(rewards[0])
    for r in reversed(rewards):
        running = r + gamma * running
        returns.append(running)
    returns = torch.stack(returns[::-1])
    advantages = returns - values
    policy_loss = -(log_probs * advantages.detach()).mean()
    value_loss = advantages.pow(2).mean()
    return policy_loss + 0.5 * value_loss


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(71)
    policy = RecurrentPolicy()
    optimizer = torch.optim.RMSprop(policy.parameters(), lr=3e-3)
    w0 = policy.encoder.weight.detach().clone()
    mean_rewards = []
    for episode in range(6):
        env_obs = torch.randn(12, 8, 6, generator=g)
        log_probs, values, rewards = run_episode(policy, env_obs, detach_gap=4, generator=g)
        loss = a2c_loss(log_probs, values, rewards)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()
        mean_rewards.append(rewards.mean().item())
    return {"policy": policy}, {"encoder_changed": not torch.equal(w0, policy.encoder.weight),
                                "episodes": len(mean_rewards)}

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
