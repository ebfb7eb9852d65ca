import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs": 6, "actions": 3, "gamma": 0.97, "sync_every": 4, "lr": 2e-3, "epochs": 2, "double": True}


class QNet(nn.Module):
    def __init__(self, obs, actions):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU())
        self.adv = nn.Linear(48, actions)
        self.val = nn.Linear(48, 1)

    def forward(self, obs):
        h = self.body(obs)
        a = self.adv(h)
        return self.val(h) + a - a.mean(-1, keepdim=True)


def td_target(online, target, reward, next_obs, done, gamma, double):
    next_q = target(next_obs)
    if double:
        best = online(next_obs).argmax(-1, keepdim=True)
        next_v = next_q.gather(-1, best).squeeze(-1)
    else:
        next_v = next_q.max(-1).values
    return (reward + gamma * (1 - done) * next_v).detach()


class TargetSync(pl.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step % pl_module.cfg["sync_every"] == 0:
            pl_module.target.load_state_dict(pl_module.online.state_dict())


class DQN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.online = QNet(cfg["obs"], cfg["actions"])
        self.target = copy.deepcopy(self.online)
        for p in self.target.parameters():
            p.requires_grad_(False)

    def training_step(self, batch, batch_idx):
        obs, action, reward, next_obs, done = batch
        q = self.online(obs).gather(-1, action.unsqueeze(-1)).squeeze(-1)
        y = td_target(self.online, self.target, reward, next_obs, done, self.cfg["gamma"], self.cfg["double"])
        loss = F.smooth_l1_loss(q, y)
        self.log("td_loss", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.online.parameters(), lr=self.cfg["lr"])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 4, 0.5),
                                                   "interval": "step"}}


def replay_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, cfg["obs"], generator=g)
    act = torch.randint(0, cfg["actions"], (n,), generator=g)
    rew = (act == obs[:, 0].gt(0).long()).float()
    return DataLoader(TensorDataset(obs, act, rew, torch.randn(n, cfg["obs"], generator=g), torch.zeros(n)),
                      batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    agent = DQN(CFG)
    w0 = agent.online.adv.weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], callbacks=[TargetSync()], logger=False,
               enable_checkpointing=False).fit(agent, replay_loader(CFG))
    obs, act, rew, nxt, done = next(iter(replay_loader(CFG)))
    agent.zero_grad()
    q = agent.online(obs).gather(-1, act.unsqueeze(-1)).squeeze(-1)
    F.smooth_l1_loss(q, td_target(agent.online, agent.target, rew, nxt, done, CFG["gamma"], True)).backward()
    return {"online": agent.online}, {
        "online_changed": not torch.equal(w0, agent.online.adv.weight),
        "target_synced": torch.equal(agent.online.adv.weight, agent.target.adv.weight),
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
