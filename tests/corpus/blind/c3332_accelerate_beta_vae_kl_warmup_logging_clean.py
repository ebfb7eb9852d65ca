import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ConvVAE(nn.Module):
    def __init__(self, latent=6):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 4, 2, 1), nn.ReLU(),
                                 nn.Flatten())
        self.mu = nn.Linear(32 * 2 * 2, latent)
        self.logvar = nn.Linear(32 * 2 * 2, latent)
        self.dec_in = nn.Linear(latent, 32 * 2 * 2)
        self.dec = nn.Sequential(nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(16, 1, 4, 2, 1))

    def forward(self, x):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h).clamp(-6, 6)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.dec(self.dec_in(z).view(-1, 32, 2, 2)), mu, logvar


def kl_weight(step, warmup=8, beta=2.0):
    return beta * min(1.0, step / warmup)


def shapes(n=48):
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 1, 8, 8)
    for i in range(n):
        r, c, s = torch.randint(0, 4, (3,), generator=g).tolist()
        x[i, 0, r:r + s + 2, c:c + s + 2] = 1.0
    return TensorDataset(x)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = ConvVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(shapes(), batch_size=8, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    log, step = [], 0
    for epoch in range(2):
        for (x,) in loader:
            with accelerator.accumulate(model):
                recon, mu, logvar = model(x)
                rec = F.binary_cross_entropy_with_logits(recon, x, reduction="sum") / x.size(0)
                kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1))
                beta = kl_weight(step)
                loss = rec + beta * kl
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            log.append({"rec": rec.item(), "kl": kl.detach().item(), "beta": beta,
                        "active_units": int((mu.detach().var(0) > 1e-2).sum())})
            step += 1
    facts = {"recon_improved": log[-1]["rec"] < log[0]["rec"], "beta_reached": log[-1]["beta"] == 2.0}
    return {"model": model}, facts

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
