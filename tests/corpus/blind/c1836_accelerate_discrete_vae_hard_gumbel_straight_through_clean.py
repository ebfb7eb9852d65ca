import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class DiscreteVAE(nn.Module):
    def __init__(self, in_dim=20, n_latents=4, n_categories=8, tau=0.8):
        super().__init__()
        self.n_latents, self.n_categories, self.tau = n_latents, n_categories, tau
        self.encoder = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU(), nn.Linear(64, n_latents * n_categories))
        self.decoder = nn.Sequential(nn.Linear(n_latents * n_categories, 64), nn.ReLU(), nn.Linear(64, in_dim))

    def forward(self, x):
        logits = self.encoder(x).view(-1, self.n_latents, self.n_categories)
        z = F.gumbel_softmax(logits, tau=self.tau, hard=True, dim=-1)
        return self.decoder(z.flatten(1)), logits


def kl_to_uniform(logits):
    q = logits.softmax(-1)
    return (q * (q.clamp_min(1e-9).log() + math.log(logits.size(-1)))).sum((-1, -2)).mean()


@torch.no_grad()
def code_usage(model, data):
    logits = model.encoder(data).view(-1, model.n_latents, model.n_categories)
    used = torch.zeros(model.n_latents, model.n_categories)
    used.scatter_(1, logits.argmax(-1).t().contiguous(), 1.0)
    return used.mean().item()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    data = (torch.rand(64, 20) > 0.5).float()
    loader = DataLoader(TensorDataset(data), batch_size=16, shuffle=True)
    model = DiscreteVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.encoder[0].weight.detach().clone()
    for epoch in range(2):
        for (x,) in loader:
            with accelerator.accumulate(model):
                recon, logits = model(x)
                loss = F.binary_cross_entropy_with_logits(recon, x, reduction="sum") / x.size(0) + kl_to_uniform(logits)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
    code_usage(model, data)
    recon, logits = model(data[:16])
    (F.binary_cross_entropy_with_logits(recon, data[:16]) + kl_to_uniform(logits)).backward()
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.encoder[0].weight)}

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
