import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.distributions import OneHotCategorical
from torch.utils.data import DataLoader, TensorDataset


class DiscreteWorldModel(nn.Module):
    """DreamerV2-style representation model: obs -> 4 categorical latents of 8 classes -> obs, reward."""

    def __init__(self, obs_dim=12, n_latents=4, n_classes=8, hidden=32):
        super().__init__()
        self.n_latents, self.n_classes = n_latents, n_classes
        self.encoder = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ELU(), nn.Linear(hidden, n_latents * n_classes))
        self.decoder = nn.Sequential(nn.Linear(n_latents * n_classes, hidden), nn.ELU(), nn.Linear(hidden, obs_dim))
        self.reward_head = nn.Linear(n_latents * n_classes, 1)

    def posterior(self, obs):
        logits = self.encoder(obs).view(-1, self.n_latents, self.n_classes)
        return logits

    def sample_latent(self, logits):
        dist = OneHotCategorical(logits=logits)
        return dist.sample()

    def forward(self, obs):
        logits = self.posterior(obs)
        z = self.sample_latent(logits).flatten(1)
        return logits, self.decoder(z), self.reward_head(z).squeeze(-1)


def kl_to_uniform(logits, free_nats=1.0):
    logp = logits.log_softmax(-1)
    kl = (logp.exp() * (logp + torch.log(torch.tensor(float(logits.shape[-1]))))).sum(-1).sum(-1)
    return torch.clamp(kl.mean(), min=free_nats)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
    model = DiscreteWorldModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, eps=1e-5)
    obs, rew = torch.randn(80, 12), torch.randn(80)
    loader = DataLoader(TensorDataset(obs, rew), batch_size=16, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for obs_b, rew_b in loader:
        with accelerator.accumulate(model):
            logits, recon, reward = model(obs_b)
            loss = F.mse_loss(recon, obs_b) + F.mse_loss(reward, rew_b) + 0.1 * kl_to_uniform(logits)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 100.0)
            optimizer.step()
            optimizer.zero_grad()
    return {"world_model": model}

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
