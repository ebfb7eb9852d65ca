import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.checkpoint import checkpoint
from torch.utils.data import DataLoader, TensorDataset


def selective_scan(u, delta, A, B, C, D):
    deltaA = torch.exp(delta.unsqueeze(-1) * A)
    deltaBu = delta.unsqueeze(-1) * B.unsqueeze(2) * u.unsqueeze(-1)
    h = torch.zeros(u.size(0), u.size(2), A.size(1))
    ys = []
    for t in range(u.size(1)):
        h = deltaA[:, t] * h + deltaBu[:, t]
        ys.append((h * C[:, t].unsqueeze(1)).sum(-1))
    return torch.stack(ys, dim=1) + u * D


class MambaBlock(nn.Module):
    def __init__(self, d, d_state=4):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.in_proj = nn.Linear(d, 2 * d)
        self.x_proj = nn.Linear(d, 1 + 2 * d_state)
        self.dt_proj = nn.Linear(1, d)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1).float()).repeat(d, 1))
        self.D = nn.Parameter(torch.ones(d))
        self.out_proj = nn.Linear(d, d)

    def forward(self, x):
        x_in, z = self.in_proj(self.norm(x)).chunk(2, dim=-1)
        x_in = F.silu(x_in)
        n = self.A_log.size(1)
        dt, B, C = self.x_proj(x_in).split([1, n, n], dim=-1)
        y = selective_scan(x_in, F.softplus(self.dt_proj(dt)), -torch.exp(self.A_log), B, C, self.D)
        return x + self.out_proj(y * F.silu(z))


class MambaLM(nn.Module):
    def __init__(self, vocab=16, d=8, n_layers=2, gradient_checkpointing=True):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([MambaBlock(d) for _ in range(n_layers)])
        self.head = nn.Linear(d, vocab)
        self.gradient_checkpointing = gradient_checkpointing

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            if self.gradient_checkpointing and self.training:
                x = checkpoint(layer, x, use_reentrant=False)
            else:
                x = layer(x)
        return self.head(x)


def train(fabric, model, optimizer, loader):
    model.train()
    for (ids,) in loader:
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        optimizer.zero_grad()
        fabric.backward(loss)
        fabric.clip_gradients(model, optimizer, max_norm=1.0)
        optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = MambaLM()
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(net, optimizer)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randint(0, 16, (16, 9), generator=g)), batch_size=8))
    a0 = net.layers[0].A_log.detach().clone()
    train(fabric, model, optimizer, loader)
    return {"model": net}, {"A_log_changed": not torch.equal(a0, net.layers[0].A_log)}

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
