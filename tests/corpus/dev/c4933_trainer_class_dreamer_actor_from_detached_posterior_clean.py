import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"obs_dim": 8, "act_dim": 2, "latent": 16, "horizon": 4, "lr": 1e-3, "updates": 3}


class WorldModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = nn.Linear(cfg["obs_dim"], cfg["latent"])
        self.dynamics = nn.GRUCell(cfg["act_dim"], cfg["latent"])
        self.reward = nn.Linear(cfg["latent"], 1)

    def loss(self, obs, act, rew):
        h = torch.tanh(self.encoder(obs))
        nxt = self.dynamics(act, h)
        return F.mse_loss(self.reward(nxt).squeeze(-1), rew), h


class DreamerTrainer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.wm = WorldModel(cfg)
        self.actor = nn.Sequential(nn.Linear(cfg["latent"], 32), nn.ELU(), nn.Linear(32, cfg["act_dim"]), nn.Tanh())
        self.wm_opt = torch.optim.Adam(self.wm.parameters(), lr=cfg["lr"])
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg["lr"])

    def imagine_return(self, start):
        self.wm.requires_grad_(False)
        h, total = start, 0.0
        for _ in range(self.cfg["horizon"]):
            h = self.wm.dynamics(self.actor(h), h)
            total = total + self.wm.reward(h).squeeze(-1)
        self.wm.requires_grad_(True)
        return total

    def update(self, obs, act, rew):
        wm_loss, post = self.wm.loss(obs, act, rew)
        self.wm_opt.zero_grad()
        wm_loss.backward()
        self.wm_opt.step()
        actor_loss = -self.imagine_return(post.detach()).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        return wm_loss.item(), actor_loss.item()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    trainer = DreamerTrainer(CFG)
    wm0, actor0 = trainer.wm.encoder.weight.detach().clone(), trainer.actor[0].weight.detach().clone()
    for _ in range(CFG["updates"]):
        obs = torch.randn(16, CFG["obs_dim"], generator=g)
        act = torch.rand(16, CFG["act_dim"], generator=g) * 2 - 1
        trainer.update(obs, act, obs[:, 0] * act[:, 0])
    return {"actor": trainer.actor}, {
        "world_model_changed": not torch.equal(wm0, trainer.wm.encoder.weight),
        "actor_changed": not torch.equal(actor0, trainer.actor[0].weight),
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
