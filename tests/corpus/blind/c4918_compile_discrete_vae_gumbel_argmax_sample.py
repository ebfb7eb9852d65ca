import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def sample_code(logits, tau):
    """Gumbel-max sample of a discrete code (one-hot), temperature-scaled."""
    gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp_min(1e-9)))
    idx = ((logits + gumbel) / tau).argmax(-1)
    return F.one_hot(idx, logits.shape[-1]).to(logits.dtype)


class DiscreteVAE(nn.Module):
    def __init__(self, in_dim=16, n_lat=4, n_cat=8):
        super().__init__()
        self.n_lat, self.n_cat = n_lat, n_cat
        self.encoder = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, n_lat * n_cat))
        self.decoder = nn.Sequential(nn.Linear(n_lat * n_cat, 32), nn.ReLU(), nn.Linear(32, in_dim))

    def forward(self, x, tau):
        logits = self.encoder(x).view(-1, self.n_lat, self.n_cat)
        return self.decoder(sample_code(logits, tau).flatten(1)), logits


def train_one_epoch(compiled, loader, optimizer, tau):
    for (x,) in loader:
        recon, logits = compiled(x, tau)
        loss = F.mse_loss(recon, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = DiscreteVAE()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(torch.randn(64, 16, generator=g)), batch_size=16, shuffle=True, generator=g)
    for epoch in range(2):
        train_one_epoch(compiled, loader, optimizer, tau=max(0.5, 0.9 ** epoch))
    return {"model": model}

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
