import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, obs_dim=8, n_actions=4, hidden=64):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(obs_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                      nn.Linear(hidden, hidden), nn.ReLU())
        self.q_head = nn.Linear(hidden, n_actions)

    def forward(self, obs):
        return self.q_head(self.features(obs))


@torch.no_grad()
def polyak_update(params, target_params, tau):
    for param, target_param in zip(params, target_params):
        target_param.mul_(1 - tau)
        torch.add(target_param, param, alpha=tau, out=target_param)


def get_parameters_by_name(model, included_names):
    return [p for name, p in model.state_dict().items() if any(key in name for key in included_names)]


class DQNAgent:
    def __init__(self, q_net, gamma=0.99, tau=0.05, lr=1e-3):
        self.q_net = nn.DataParallel(q_net)
        self.q_net_target = copy.deepcopy(q_net)
        self.q_net_target.requires_grad_(False)
        self.q_net_target.train(False)
        self.batch_norm_stats = get_parameters_by_name(q_net, ["running_"])
        self.batch_norm_stats_target = get_parameters_by_name(self.q_net_target, ["running_"])
        self.optimizer = torch.optim.Adam(self.q_net.parameters(), lr=lr)
        self.gamma, self.tau = gamma, tau

    def train_step(self, obs, actions, rewards, next_obs, dones):
        with torch.no_grad():
            next_q = self.q_net_target(next_obs).max(dim=1).values
            target_q = rewards + (1 - dones) * self.gamma * next_q
        current_q = self.q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(current_q, target_q)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.q_net.parameters(), 10.0)
        self.optimizer.step()
        polyak_update(self.q_net.module.parameters(), self.q_net_target.parameters(), self.tau)
        polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
        return loss.item()


def main():
    torch.manual_seed(0)
    agent = DQNAgent(QNetwork())
    t0 = agent.q_net_target.q_head.weight.detach().clone()
    q0 = agent.q_net.module.q_head.weight.detach().clone()
    losses = []
    for _ in range(4):
        obs, next_obs = torch.randn(16, 8), torch.randn(16, 8)
        actions, rewards, dones = torch.randint(0, 4, (16,)), torch.randn(16), (torch.rand(16) < 0.1).float()
        losses.append(agent.train_step(obs, actions, rewards, next_obs, dones))
    return ({"q_net": agent.q_net.module},
            {"q_changed": not torch.equal(q0, agent.q_net.module.q_head.weight),
             "target_changed": not torch.equal(t0, agent.q_net_target.q_head.weight),
             "target_running_mean_synced": torch.equal(agent.q_net.module.features[1].running_mean,
                                                       agent.q_net_target.features[1].running_mean)})

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
