import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TopKSAE(nn.Module):
    def __init__(self, d_model=16, n_latents=64, k=4, k_aux=8):
        super().__init__()
        self.k, self.k_aux = k, k_aux
        self.pre_bias = nn.Parameter(torch.zeros(d_model))
        self.encoder = nn.Linear(d_model, n_latents)
        self.decoder = nn.Linear(n_latents, d_model, bias=False)
        self.register_buffer("steps_since_active", torch.zeros(n_latents, dtype=torch.long))

    def topk(self, pre, k):
        vals, idx = pre.topk(k, dim=-1)
        return torch.zeros_like(pre).scatter(-1, idx, F.relu(vals))

    def forward(self, x):
        pre = self.encoder(x - self.pre_bias)
        latents = self.topk(pre, self.k)
        recon = self.decoder(latents) + self.pre_bias
        with torch.no_grad():
            active = (latents > 0).any(0)
            self.steps_since_active.add_(1).masked_fill_(active, 0)
        return recon, pre


def auxk_loss(sae, x, recon, pre, dead_after=2):
    dead = sae.steps_since_active > dead_after
    if not dead.any():
        return recon.new_zeros(())
    residual = (x - recon).detach()
    dead_pre = pre.masked_fill(~dead, float("-inf"))
    aux_latents = sae.topk(dead_pre, min(sae.k_aux, int(dead.sum())))
    aux_latents = torch.nan_to_num(aux_latents, neginf=0.0)
    aux_recon = sae.decoder(aux_latents)
    return F.mse_loss(aux_recon, residual) / residual.pow(2).mean().clamp(min=1e-8)


def train(sae, loader, optimizer, scheduler, aux_coef=1 / 32):
    sae.train()
    for (acts,) in loader:
        recon, pre = sae(acts)
        mse = F.mse_loss(recon, acts)
        loss = mse + aux_coef * auxk_loss(sae, acts, recon, pre)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        with torch.no_grad():
            sae.decoder.weight.div_(sae.decoder.weight.norm(dim=0, keepdim=True))


def main():
    torch.manual_seed(0)
    acts = torch.randn(64, 16)
    sae = TopKSAE()
    sae.steps_since_active.fill_(5)
    optimizer = torch.optim.Adam(sae.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 2))
    enc_before = sae.encoder.weight.detach().clone()
    train(sae, DataLoader(TensorDataset(acts), batch_size=16), optimizer, scheduler)
    return {"sae": sae}, {"encoder_changed": not torch.equal(enc_before, sae.encoder.weight)}

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
