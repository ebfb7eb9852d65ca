import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AddAuxiliaryLoss(torch.autograd.Function):
    """Identity on x whose backward also sends a gradient of 1 into the auxiliary loss."""

    @staticmethod
    def forward(ctx, x, loss):
        assert loss.numel() == 1
        ctx.dtype = loss.dtype
        ctx.required_aux_loss = loss.requires_grad
        return x

    @staticmethod
    def backward(ctx, grad_output):
        grad_loss = None
        if ctx.required_aux_loss:
            grad_loss = torch.ones(1, dtype=ctx.dtype, device=grad_output.device)
        return grad_output, grad_loss


class MoEGate(nn.Module):
    def __init__(self, dim, n_experts, top_k=2, aux_alpha=0.01):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_experts, dim) * 0.02)
        self.n_experts, self.top_k, self.aux_alpha = n_experts, top_k, aux_alpha

    def forward(self, x):
        scores = F.linear(x, self.weight).softmax(dim=-1)
        topk_weight, topk_idx = torch.topk(scores, self.top_k, dim=-1)
        aux_loss = None
        if self.training:
            # switch-style load balancing: fraction of tokens routed to each expert x mean gate probability
            counts = F.one_hot(topk_idx, self.n_experts).float().sum(dim=(0, 1)) / (x.size(0) * self.top_k)
            aux_loss = (counts.detach() * scores.mean(0)).sum() * self.n_experts * self.aux_alpha
        return topk_idx, topk_weight / topk_weight.sum(-1, keepdim=True), aux_loss


class MoELayer(nn.Module):
    def __init__(self, dim=16, n_experts=4):
        super().__init__()
        self.gate = MoEGate(dim, n_experts)
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(dim, 2 * dim), nn.SiLU(), nn.Linear(2 * dim, dim))
                                     for _ in range(n_experts))

    def forward(self, x):
        idx, w, aux_loss = self.gate(x)
        y = torch.zeros_like(x)
        for k in range(idx.size(1)):
            for e, expert in enumerate(self.experts):
                sel = idx[:, k] == e
                if sel.any():
                    y[sel] = y[sel] + w[sel, k, None] * expert(x[sel])
        if aux_loss is not None:
            y = AddAuxiliaryLoss.apply(y, aux_loss)
        return y


class MoEClassifier(nn.Module):
    def __init__(self, in_dim=10, dim=16, n_classes=3):
        super().__init__()
        self.inp = nn.Linear(in_dim, dim)
        self.moe = MoELayer(dim)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, x):
        h = self.inp(x)
        return self.out(h + self.moe(h))


def main():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(48, 10), torch.randint(0, 3, (48,))), batch_size=16, shuffle=True)
    model = MoEClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for epoch in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
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
