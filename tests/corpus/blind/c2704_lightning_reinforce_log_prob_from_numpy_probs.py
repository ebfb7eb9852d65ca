import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ActorCritic(nn.Module):
    def __init__(self, obs=4, n_actions=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs, 32), nn.Tanh())
        self.policy = nn.Linear(32, n_actions)
        self.value = nn.Linear(32, 1)

    def forward(self, s):
        h = self.body(s)
        return F.softmax(self.policy(h), -1), self.value(h).squeeze(-1)


class ProbabilityActionSelector:
    """Samples actions from a batch of probability vectors (ptan-style agent helper)."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, probs):
        probs = probs.detach().numpy()
        actions = np.array([self.rng.choice(len(p), p=p / p.sum()) for p in probs])
        log_probs = np.log(probs[np.arange(len(actions)), actions])
        return torch.from_numpy(actions), torch.from_numpy(log_probs).float()


def toy_env_reward(states, actions):
    return (actions == (states[:, 0] > 0).long()).float() - 0.5


class A2C(pl.LightningModule):
    def __init__(self, lr=1e-2, value_coef=0.5):
        super().__init__()
        self.net = ActorCritic()
        self.selector = ProbabilityActionSelector()
        self.lr, self.value_coef = lr, value_coef

    def training_step(self, batch, batch_idx):
        (states,) = batch
        probs, values = self.net(states)
        actions, log_probs = self.selector(probs)
        rewards = toy_env_reward(states, actions)
        advantage = rewards - values.detach()
        policy_loss = -(log_probs * advantage).mean()
        value_loss = F.mse_loss(values, rewards)
        loss = policy_loss + self.value_coef * value_loss
        self.log_dict({"policy_loss": policy_loss, "value_loss": value_loss})
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    model = A2C()
    before = model.net.policy.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(torch.randn(32, 4)), batch_size=8))
    return {"net": model.net}, {"policy_head_changed": not torch.equal(before, model.net.policy.weight)}

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
