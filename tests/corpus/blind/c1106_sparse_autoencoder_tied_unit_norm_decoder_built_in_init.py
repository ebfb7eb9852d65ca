import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TiedSparseAutoencoder(nn.Module):
    """Dictionary learner: the decoder is the transposed encoder, each atom kept at unit norm."""

    def __init__(self, n_in=24, n_atoms=48, l1=1e-3):
        super().__init__()
        self.encoder = nn.Linear(n_in, n_atoms)
        self.decoder_bias = nn.Parameter(torch.zeros(n_in))
        self.decoder_weight = F.normalize(self.encoder.weight, dim=1).t()
        self.l1 = l1

    def encode(self, x):
        return F.relu(self.encoder(x - self.decoder_bias))

    def decode(self, codes):
        return codes @ self.decoder_weight.t() + self.decoder_bias

    def forward(self, x):
        codes = self.encode(x)
        return self.decode(codes), codes


def sae_loss(model, x):
    recon, codes = model(x)
    return F.mse_loss(recon, x) + model.l1 * codes.abs().sum(dim=1).mean()


def train(model, loader, optimizer, epochs=2):
    for _ in range(epochs):
        for (x,) in loader:
            optimizer.zero_grad()
            loss = sae_loss(model, x)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    activations = torch.randn(64, 24)
    loader = DataLoader(TensorDataset(activations), batch_size=16, shuffle=True)
    model = TiedSparseAutoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
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
