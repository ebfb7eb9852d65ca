import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SparseAutoencoder(nn.Module):
    """Dictionary learning on model activations: unit-norm decoder columns, ReLU codes, L1 sparsity."""

    def __init__(self, d_in=16, n_dict=48):
        super().__init__()
        self.encoder = nn.Linear(d_in, n_dict)
        self.decoder = nn.Linear(n_dict, d_in, bias=True)
        self.normalize_decoder()

    @torch.no_grad()
    def normalize_decoder(self):
        self.decoder.weight.div_(self.decoder.weight.norm(dim=0, keepdim=True).clamp_min(1e-8))

    @torch.no_grad()
    def remove_parallel_grad(self):
        w, g = self.decoder.weight, self.decoder.weight.grad
        g.sub_((g * w).sum(dim=0, keepdim=True) * w)

    def forward(self, x):
        codes = F.relu(self.encoder(x - self.decoder.bias))
        return self.decoder(codes), codes


def make_loader(n=128):
    g = torch.Generator().manual_seed(73)
    atoms = F.normalize(torch.randn(24, 16, generator=g), dim=1)
    coeff = torch.relu(torch.randn(n, 24, generator=g) - 1.0)
    return DataLoader(TensorDataset(coeff @ atoms), batch_size=32, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    sae = SparseAutoencoder()
    compiled = torch.compile(sae, backend="eager")
    optimizer = torch.optim.Adam(sae.parameters(), lr=2e-3)
    d0 = sae.decoder.weight.detach().clone()
    e0 = sae.encoder.weight.detach().clone()
    for epoch in range(2):
        for (acts,) in make_loader():
            recon, codes = compiled(acts)
            loss = F.mse_loss(recon, acts) + 1e-3 * codes.abs().sum(dim=1).mean()
            optimizer.zero_grad()
            loss.backward()
            sae.remove_parallel_grad()
            optimizer.step()
            sae.normalize_decoder()
    return ({"sae": sae},
            {"decoder_changed": not torch.equal(d0, sae.decoder.weight),
             "encoder_changed": not torch.equal(e0, sae.encoder.weight),
             "decoder_columns_unit_norm": bool(torch.allclose(sae.decoder.weight.norm(dim=0), torch.ones(48), atol=1e-5))})

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
