import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SentenceVAE(nn.Module):
    def __init__(self, vocab=40, emb=16, hidden=24, z_dim=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.to_mu = nn.Linear(hidden, z_dim)
        self.to_logvar = nn.Linear(hidden, z_dim)
        self.z_to_h = nn.Linear(z_dim, hidden)
        self.decoder = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, ids, word_dropout=0.25):
        _, h = self.encoder(self.embed(ids))
        mu, logvar = self.to_mu(h[-1]), self.to_logvar(h[-1])
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        dec_in = ids[:, :-1].clone()
        drop = torch.rand(dec_in.shape) < word_dropout
        dec_in[drop] = 1  # <unk> word dropout on the decoder input
        out, _ = self.decoder(self.embed(dec_in), torch.tanh(self.z_to_h(z))[None])
        return self.out(out), mu, logvar


class KLAnnealer:
    """Linear warm-up of the KL weight, driven by the global step (Bowman et al.)."""

    def __init__(self, warmup_steps):
        self.warmup_steps, self.step_count = warmup_steps, 0

    def weight(self):
        return min(1.0, self.step_count / self.warmup_steps)

    def step(self):
        self.step_count += 1


def elbo_terms(model, ids):
    logits, mu, logvar = model(ids)
    recon = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
    kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1))
    return recon, kl


def main():
    set_seed(0)
    accelerator = Accelerator()
    ids = torch.randint(2, 40, (24, 8))
    loader = DataLoader(TensorDataset(ids), batch_size=6, shuffle=True)
    model = SentenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    annealer = KLAnnealer(warmup_steps=6)
    mu0 = model.to_mu.weight.detach().clone()
    log = []
    for epoch in range(2):
        for (batch,) in loader:
            recon, kl = elbo_terms(model, batch)
            beta = annealer.weight()
            loss = recon + beta * kl
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            annealer.step()
            log.append({"recon": recon.item(), "kl": kl.item(), "beta": beta})
    return ({"model": model},
            {"encoder_mu_changed": not torch.equal(mu0, model.to_mu.weight), "final_beta": log[-1]["beta"]})

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
