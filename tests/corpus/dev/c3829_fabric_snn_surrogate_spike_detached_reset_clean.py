import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class SurrGradSpike(torch.autograd.Function):
    """Heaviside forward, fast-sigmoid surrogate derivative backward (SuperSpike)."""

    scale = 10.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = torch.zeros_like(x)
        out[x > 0] = 1.0
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (SurrGradSpike.scale * x.abs() + 1.0) ** 2


spike_fn = SurrGradSpike.apply


class RecurrentSNN(nn.Module):
    def __init__(self, n_in=16, n_hidden=32, n_out=3, alpha=0.85, beta=0.9):
        super().__init__()
        self.w_in = nn.Linear(n_in, n_hidden, bias=False)
        self.w_rec = nn.Linear(n_hidden, n_hidden, bias=False)
        self.w_out = nn.Linear(n_hidden, n_out, bias=False)
        self.alpha, self.beta = alpha, beta

    def forward(self, x):
        batch, steps, _ = x.shape
        syn = torch.zeros(batch, self.w_in.out_features)
        mem = torch.zeros_like(syn)
        out = torch.zeros_like(syn)
        flt = torch.zeros(batch, self.w_out.out_features)
        readout = []
        for t in range(steps):
            mthr = mem - 1.0
            out = spike_fn(mthr)
            rst = out.detach()
            syn = self.alpha * syn + self.w_in(x[:, t]) + self.w_rec(out)
            mem = (self.beta * mem + syn) * (1.0 - rst)
            flt = self.alpha * flt + self.w_out(out)
            readout.append(flt)
        return torch.stack(readout, 1).max(dim=1).values


def make_loader(n=48, steps=12, n_in=16):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    rates = torch.full((n, n_in), 0.05)
    for c in range(3):
        rates[y == c, 5 * c:5 * c + 5] = 0.6
    x = (torch.rand(n, steps, n_in, generator=g) < rates[:, None]).float()
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = RecurrentSNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, betas=(0.9, 0.999))
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    w_in0 = model.w_in.weight.detach().clone()
    w_rec0 = model.w_rec.weight.detach().clone()
    for epoch in range(2):
        for x, y in loader:
            loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": model.module}, {
        "input_weights_changed": not torch.equal(w_in0, model.w_in.weight),
        "recurrent_weights_changed": not torch.equal(w_rec0, model.w_rec.weight),
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
