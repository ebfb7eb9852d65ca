import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd


def grad_reverse(x, lambd=1.0):
    return GradReverse.apply(x, lambd)


class DomainAdaptiveAutoencoder(nn.Module):
    def __init__(self, in_dim=10, z_dim=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 16), nn.ReLU(), nn.Linear(16, z_dim))
        self.decoder = nn.Sequential(nn.Linear(z_dim, 16), nn.ReLU(), nn.Linear(16, in_dim))
        self.domain_clf = nn.Sequential(nn.Linear(z_dim, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z), z


def domain_logits(model, z, lambd):
    return model.domain_clf(grad_reverse(z, lambd)).squeeze(-1)


def train_one_epoch(model, compiled, loader, optimizer, lambd):
    for x, domain in loader:
        recon, z = compiled(x)
        dom_logit = domain_logits(model, z, lambd)
        loss = F.mse_loss(recon, x) + F.binary_cross_entropy_with_logits(dom_logit, domain)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = DomainAdaptiveAutoencoder()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(16, 10, generator=g), torch.randn(16, 10, generator=g) + 0.5])
    domain = torch.cat([torch.zeros(16), torch.ones(16)])
    loader = DataLoader(TensorDataset(x, domain), batch_size=8, shuffle=True, generator=g)
    train_one_epoch(model, compiled, loader, optimizer, lambd=0.3)
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
