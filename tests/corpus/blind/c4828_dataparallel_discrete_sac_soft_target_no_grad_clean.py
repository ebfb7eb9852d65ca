import copy
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs_dim": 6, "n_actions": 4, "hidden": 48, "gamma": 0.97, "tau": 0.02, "lr": 5e-4,
       "target_entropy_ratio": 0.6}


class QNets(nn.Module):
    def __init__(self, obs_dim, n_actions, hidden):
        super().__init__()
        self.q1 = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_actions))
        self.q2 = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_actions))

    def forward(self, obs):
        return self.q1(obs), self.q2(obs)


def main():
    torch.manual_seed(0)
    c = CFG
    policy = nn.DataParallel(nn.Sequential(nn.Linear(c["obs_dim"], c["hidden"]), nn.ReLU(), nn.Linear(c["hidden"], c["n_actions"])))
    critics = nn.DataParallel(QNets(c["obs_dim"], c["n_actions"], c["hidden"]))
    target = copy.deepcopy(critics.module).requires_grad_(False)
    log_alpha = torch.zeros((), requires_grad=True)
    target_entropy = c["target_entropy_ratio"] * math.log(c["n_actions"])
    q_opt = torch.optim.Adam(critics.module.parameters(), lr=c["lr"])
    pi_opt = torch.optim.Adam(policy.module.parameters(), lr=c["lr"])
    a_opt = torch.optim.Adam([log_alpha], lr=c["lr"])
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(64, c["obs_dim"], generator=g)
    act = torch.randint(0, c["n_actions"], (64,), generator=g)
    rew = (act == obs[:, :c["n_actions"]].argmax(-1)).float()
    nxt = obs + 0.1 * torch.randn(64, c["obs_dim"], generator=g)
    loader = DataLoader(TensorDataset(obs, act, rew, nxt), batch_size=16, shuffle=True, generator=g)
    p0 = policy.module[0].weight.detach().clone()
    q0 = critics.module.q1[0].weight.detach().clone()
    for _ in range(2):
        for o, a, r, n in loader:
            alpha = log_alpha.exp().detach()
            with torch.no_grad():
                next_probs = F.softmax(policy(n), -1)
                next_logp = torch.log(next_probs + 1e-8)
                tq1, tq2 = target(n)
                v_next = (next_probs * (torch.min(tq1, tq2) - alpha * next_logp)).sum(-1)
                y = r + c["gamma"] * v_next
            q1, q2 = critics(o)
            q_loss = F.mse_loss(q1.gather(1, a[:, None]).squeeze(1), y) + F.mse_loss(q2.gather(1, a[:, None]).squeeze(1), y)
            q_opt.zero_grad()
            q_loss.backward()
            q_opt.step()
            probs = F.softmax(policy(o), -1)
            logp = torch.log(probs + 1e-8)
            with torch.no_grad():
                q_min = torch.min(*critics(o))
            pi_loss = (probs * (alpha * logp - q_min)).sum(-1).mean()
            pi_opt.zero_grad()
            pi_loss.backward()
            pi_opt.step()
            entropy = -(probs.detach() * logp.detach()).sum(-1)
            a_loss = (log_alpha * (entropy - target_entropy)).mean()
            a_opt.zero_grad()
            a_loss.backward()
            a_opt.step()
            with torch.no_grad():
                for tp, p in zip(target.parameters(), critics.module.parameters()):
                    tp.lerp_(p, c["tau"])
    return {"policy": policy.module, "critics": critics.module, "log_alpha": log_alpha}, {
        "policy_changed": not torch.equal(p0, policy.module[0].weight),
        "critic_changed": not torch.equal(q0, critics.module.q1[0].weight),
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
