import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DiscreteBottleneckAE(nn.Module):
    """Autoencoder whose latent is a one-hot choice among K learned codes (straight-through Gumbel-softmax)."""

    def __init__(self, in_dim=12, n_codes=8, code_dim=6, tau=1.0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, n_codes))
        self.codebook = nn.Parameter(torch.randn(n_codes, code_dim))
        self.decoder = nn.Sequential(nn.Linear(code_dim, 32), nn.ReLU(), nn.Linear(32, in_dim))
        self.tau = tau

    def select(self, logits):
        soft = F.gumbel_softmax(logits, tau=self.tau, hard=False)
        index = soft.argmax(dim=-1)
        hard = F.one_hot(index, logits.shape[-1]).to(soft.dtype)
        return hard - soft.detach() + soft

    def forward(self, x):
        onehot = self.select(self.encoder(x))
        return self.decoder(onehot @ self.codebook), onehot


def train(model, loader, optimizer, epochs=1):
    for _ in range(epochs):
        for (x,) in loader:
            recon, onehot = model(x)
            usage = onehot.mean(dim=0)
            loss = F.mse_loss(recon, x) + 0.01 * (usage * torch.log(usage + 1e-8)).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(64, 12, generator=torch.Generator().manual_seed(0))
    model = DiscreteBottleneckAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = model.encoder[0].weight.detach().clone()
    train(model, DataLoader(TensorDataset(x), batch_size=16), optimizer)
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.encoder[0].weight)}

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
