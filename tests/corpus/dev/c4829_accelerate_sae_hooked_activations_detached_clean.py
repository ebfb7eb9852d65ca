import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed

CFG = {"vocab": 60, "d_model": 32, "d_sae": 128, "seq": 12, "l1_coef": 3e-3, "lr": 1e-3, "steps_per_batch": 2}


class FrozenLM(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
                                    for _ in range(3))
        self.unembed = nn.Linear(d, vocab)

    def forward(self, ids):
        h = self.embed(ids)
        for block in self.blocks:
            h = h + block(h)
        return self.unembed(h)


class SparseAutoencoder(nn.Module):
    def __init__(self, d_in, d_sae):
        super().__init__()
        self.b_dec = nn.Parameter(torch.zeros(d_in))
        self.encoder = nn.Linear(d_in, d_sae)
        self.W_dec = nn.Parameter(torch.randn(d_sae, d_in) / d_in ** 0.5)

    def forward(self, x):
        f = torch.relu(self.encoder(x - self.b_dec))
        return f @ self.W_dec + self.b_dec, f

    @torch.no_grad()
    def set_decoder_norm_to_unit_norm(self):
        self.W_dec.div_(self.W_dec.norm(dim=1, keepdim=True))

    @torch.no_grad()
    def remove_gradient_parallel_to_decoder_directions(self):
        parallel = (self.W_dec.grad * self.W_dec).sum(-1, keepdim=True)
        self.W_dec.grad.sub_(parallel * self.W_dec)


class ActivationCache:
    """Forward hook on the frozen LM: keeps the residual stream of one block as plain data."""

    def __init__(self, module):
        self.acts = []
        self.handle = module.register_forward_hook(self.hook)

    def hook(self, module, inputs, output):
        self.acts.append(output.detach().reshape(-1, output.shape[-1]))


def main():
    set_seed(0)
    accelerator = Accelerator()
    lm = FrozenLM(CFG["vocab"], CFG["d_model"]).eval().requires_grad_(False)
    sae = SparseAutoencoder(CFG["d_model"], CFG["d_sae"])
    sae.set_decoder_norm_to_unit_norm()
    optimizer = torch.optim.Adam(sae.parameters(), lr=CFG["lr"])
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randint(0, CFG["vocab"], (32, CFG["seq"]), generator=g)), batch_size=8)
    sae, optimizer, loader = accelerator.prepare(sae, optimizer, loader)
    cache = ActivationCache(lm.blocks[1])
    lm0 = lm.blocks[1][1].weight.detach().clone()
    enc0 = sae.encoder.weight.detach().clone()
    for (ids,) in loader:
        cache.acts.clear()
        lm(ids)
        x = cache.acts[0]
        for _ in range(CFG["steps_per_batch"]):
            recon, f = sae(x)
            loss = (recon - x).pow(2).sum(-1).mean() + CFG["l1_coef"] * f.abs().sum(-1).mean()
            optimizer.zero_grad()
            accelerator.backward(loss)
            sae.remove_gradient_parallel_to_decoder_directions()
            optimizer.step()
            sae.set_decoder_norm_to_unit_norm()
    cache.handle.remove()
    return {"sae": sae}, {
        "sae_encoder_changed": not torch.equal(enc0, sae.encoder.weight),
        "lm_changed": not torch.equal(lm0, lm.blocks[1][1].weight),
        "decoder_unit_norm": bool(torch.allclose(sae.W_dec.norm(dim=1), torch.ones(CFG["d_sae"]), atol=1e-5)),
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
