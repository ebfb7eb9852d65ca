import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CategoricalLatent(nn.Module):
    """DreamerV2-style discrete latent: `groups` categoricals with `classes` values each, straight-through sampled."""

    def __init__(self, inp, groups=4, classes=4, unimix=0.01):
        super().__init__()
        self.logits = nn.Linear(inp, groups * classes)
        self.groups, self.classes, self.unimix = groups, classes, unimix

    def forward(self, x):
        logits = self.logits(x).view(*x.shape[:-1], self.groups, self.classes)
        probs = (1 - self.unimix) * logits.softmax(-1) + self.unimix / self.classes
        index = torch.multinomial(probs.reshape(-1, self.classes).detach(), 1).view(*probs.shape[:-1])
        sample = F.one_hot(index, self.classes).float()
        sample = sample + probs - probs.detach()
        return sample.flatten(-2), probs


class DiscreteWorldModel(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, deter=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(obs_dim, 32), nn.ELU())
        self.posterior = CategoricalLatent(deter + 32)
        self.prior = CategoricalLatent(deter)
        self.cell = nn.GRUCell(16 + act_dim, deter)
        self.decoder = nn.Sequential(nn.Linear(deter + 16, 32), nn.ELU(), nn.Linear(32, obs_dim))
        self.deter = deter

    def forward(self, obs, actions):
        b, t, _ = obs.shape
        h, z = torch.zeros(b, self.deter), torch.zeros(b, 16)
        recons, kls = [], []
        for i in range(t):
            h = self.cell(torch.cat([z, actions[:, i]], -1), h)
            z, post = self.posterior(torch.cat([h, self.encoder(obs[:, i])], -1))
            _, prior = self.prior(h)
            kl_rep = (post * (post.log() - prior.detach().log())).sum(-1).mean()
            kl_dyn = (post.detach() * (post.detach().log() - prior.log())).sum(-1).mean()
            kls.append(0.2 * kl_rep + 0.8 * kl_dyn)
            recons.append(self.decoder(torch.cat([h, z], -1)))
        return torch.stack(recons, 1), torch.stack(kls).mean()


def replay(n=8, t=4, obs_dim=6, act_dim=2):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, t, obs_dim, generator=g).cumsum(1) * 0.3
    actions = torch.randn(n, t, act_dim, generator=g).tanh()
    return DataLoader(TensorDataset(obs, actions), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = DiscreteWorldModel()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, eps=1e-5)
    enc0 = model.encoder[0].weight.detach().clone()
    post0 = model.posterior.logits.weight.detach().clone()
    for _ in range(2):
        for obs, actions in replay():
            recon, kl = compiled(obs, actions)
            loss = F.mse_loss(recon, obs) + kl
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 100.0)
            optimizer.step()
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "posterior_changed": not torch.equal(post0, model.posterior.logits.weight),
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
