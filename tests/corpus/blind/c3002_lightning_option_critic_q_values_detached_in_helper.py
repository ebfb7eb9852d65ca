import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class OptionCriticNet(nn.Module):
    def __init__(self, obs_dim=6, n_options=3, n_actions=2, hidden=32):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU())
        self.Q = nn.Linear(hidden, n_options)
        self.terminations = nn.Linear(hidden, n_options)
        self.option_policies = nn.Linear(hidden, n_options * n_actions)
        self.n_options, self.n_actions = n_options, n_actions

    def q_values(self, obs):
        # values are only ever used as targets or baselines
        return self.Q(self.features(obs)).detach()

    def policy_logp(self, obs, option, action):
        logits = self.option_policies(self.features(obs)).view(-1, self.n_options, self.n_actions)
        logp = F.log_softmax(logits[torch.arange(len(option)), option], -1)
        return logp.gather(1, action[:, None]).squeeze(1)

    def termination_prob(self, obs, option):
        return torch.sigmoid(self.terminations(self.features(obs))).gather(1, option[:, None]).squeeze(1)


class OptionCritic(pl.LightningModule):
    def __init__(self, gamma=0.99):
        super().__init__()
        self.automatic_optimization = False
        self.net = OptionCriticNet()
        self.gamma = gamma

    def training_step(self, batch, batch_idx):
        critic_opt, actor_opt = self.optimizers()
        obs, option, action, reward, next_obs, done = batch
        q = self.net.q_values(obs)
        next_q = self.net.q_values(next_obs)
        beta_next = self.net.termination_prob(next_obs, option).detach()
        u_next = (1 - beta_next) * next_q.gather(1, option[:, None]).squeeze(1) + beta_next * next_q.max(1).values
        target = reward + self.gamma * (1 - done) * u_next
        critic_loss = 0.5 * (q.gather(1, option[:, None]).squeeze(1) - target).pow(2).mean()
        critic_opt.zero_grad()
        self.manual_backward(critic_loss)
        critic_opt.step()

        q_opt = q.gather(1, option[:, None]).squeeze(1)
        beta = self.net.termination_prob(next_obs, option)
        term_loss = (beta * (next_q.gather(1, option[:, None]).squeeze(1) - next_q.max(1).values + 0.01)).mean()
        policy_loss = -(self.net.policy_logp(obs, option, action) * (target - q_opt)).mean()
        actor_opt.zero_grad()
        self.manual_backward(policy_loss + term_loss)
        actor_opt.step()

    def configure_optimizers(self):
        critic_params = list(self.net.features.parameters()) + list(self.net.Q.parameters())
        actor_params = list(self.net.terminations.parameters()) + list(self.net.option_policies.parameters())
        return torch.optim.RMSprop(critic_params, lr=1e-3), torch.optim.RMSprop(actor_params, lr=1e-3)


def make_loader(n=48):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, 6, generator=g)
    data = (obs, torch.randint(0, 3, (n,), generator=g), torch.randint(0, 2, (n,), generator=g), torch.rand(n, generator=g),
            obs + 0.1 * torch.randn(n, 6, generator=g), (torch.rand(n, generator=g) < 0.1).float())
    return DataLoader(TensorDataset(*data), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = OptionCritic()
    q0 = model.net.Q.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, make_loader())
    return {"net": model.net}, {"q_head_changed": not torch.equal(q0, model.net.Q.weight)}

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
