import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"d_model": 8, "d_state": 4, "vocab": 10, "seq": 12, "lr": 3e-3, "epochs": 2}


def selective_scan_ref(u, delta, A, B, C):
    """h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t ; y_t = <C_t, h_t>   (u, delta: (b, l, d); B, C: (b, l, n))."""
    h = u.new_zeros(u.shape[0], u.shape[2], A.shape[1])
    ys = []
    for t in range(u.shape[1]):
        dA = torch.exp(delta[:, t, :, None] * A)
        h = dA * h + delta[:, t, :, None] * B[:, t, None, :] * u[:, t, :, None]
        ys.append((h * C[:, t, None, :]).sum(-1))
    return torch.stack(ys, dim=1)


class SelectiveScanFn(torch.autograd.Function):
    """Memory-saving scan: no graph in the forward pass, recompute in backward (stands in for the fused kernel)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C):
        ctx.save_for_backward(u, delta, A, B, C)
        return selective_scan_ref(u, delta, A, B, C)

    @staticmethod
    def backward(ctx, grad_out):
        u, delta, A, B, C = ctx.saved_tensors
        with torch.enable_grad():
            leaves = [t.detach().requires_grad_(True) for t in (u, delta, B, C)]
            y = selective_scan_ref(leaves[0], leaves[1], A, leaves[2], leaves[3])
            du, ddelta, dB, dC = torch.autograd.grad(y, leaves, grad_out)
        return du, ddelta, None, dB, dC


class MambaBlock(nn.Module):
    def __init__(self, d_model, d_state):
        super().__init__()
        self.in_proj = nn.Linear(d_model, d_model)
        self.x_proj = nn.Linear(d_model, 1 + 2 * d_state)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1).float()).repeat(d_model, 1))
        self.dt_proj = nn.Linear(1, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.d_state = d_state

    def forward(self, x):
        u = F.silu(self.in_proj(x))
        dt, B, C = self.x_proj(u).split([1, self.d_state, self.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(dt))
        y = SelectiveScanFn.apply(u, delta, -torch.exp(self.A_log), B, C)
        return x + self.out_proj(y)


class TinyMambaLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed = nn.Embedding(cfg["vocab"], cfg["d_model"])
        self.block = MambaBlock(cfg["d_model"], cfg["d_state"])
        self.lm_head = nn.Linear(cfg["d_model"], cfg["vocab"])

    def forward(self, ids):
        return self.lm_head(self.block(self.embed(ids)))


def train(fabric, model, optimizer, loader, cfg):
    for epoch in range(cfg["epochs"]):
        for (ids,) in loader:
            logits = model(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, cfg["vocab"]), ids[:, 1:].reshape(-1))
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    start = torch.randint(0, CFG["vocab"], (32, 1), generator=g)
    ids = (start + torch.arange(CFG["seq"])) % CFG["vocab"]
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(ids), batch_size=8, shuffle=True, generator=g))
    model = TinyMambaLM(CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    a0, p0 = model.module.block.A_log.detach().clone(), model.module.block.in_proj.weight.detach().clone()
    train(fabric, model, optimizer, loader, CFG)
    return {"model": model.module}, {"A_log_changed": not torch.equal(a0, model.module.block.A_log.detach()),
                                     "in_proj_changed": not torch.equal(p0, model.module.block.in_proj.weight)}

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
