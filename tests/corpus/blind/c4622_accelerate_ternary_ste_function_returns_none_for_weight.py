import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

TWN = {"in_dim": 12, "hidden": [32, 32], "threshold_ratio": 0.7, "lr": 5e-3, "epochs": 3, "batch": 16,
       "grad_accum": 1}


class TernarizeSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, ratio):
        delta = ratio * w.abs().mean()
        q = (w > delta).float() - (w < -delta).float()
        alpha = w.abs()[q != 0].mean() if (q != 0).any() else w.new_tensor(0.0)
        return alpha * q

    @staticmethod
    def backward(ctx, grad_output):
        # straight-through: the quantizer is treated as identity
        return None, None


class TernaryLinear(nn.Linear):
    def __init__(self, d_in, d_out, ratio):
        super().__init__(d_in, d_out)
        self.ratio = ratio

    def forward(self, x):
        return F.linear(x, TernarizeSTE.apply(self.weight, self.ratio), self.bias)


class TernaryMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dims = [cfg["in_dim"]] + cfg["hidden"]
        self.layers = nn.ModuleList(TernaryLinear(a, b, cfg["threshold_ratio"]) for a, b in zip(dims, dims[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for b in cfg["hidden"])
        self.out = TernaryLinear(cfg["hidden"][-1], 1, cfg["threshold_ratio"])

    def forward(self, x):
        for layer, norm in zip(self.layers, self.norms):
            x = F.relu(norm(layer(x)))
        return self.out(x).squeeze(-1)


def churn_table(cfg, n=96):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cfg["in_dim"], generator=g)
    logit = 1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] * x[:, 3]
    y = (torch.rand(n, generator=g) < torch.sigmoid(logit)).float()
    return TensorDataset(x, y)


def train_epoch(model, loader, optimizer, accelerator):
    model.train()
    total, seen = 0.0, 0
    for x, y in loader:
        with accelerator.accumulate(model):
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
        total += loss.item() * len(y)
        seen += len(y)
    return total / seen


@torch.no_grad()
def auc_proxy(model, dataset):
    model.eval()
    x, y = dataset.tensors
    s = model(x)
    pos, neg = s[y == 1], s[y == 0]
    return (pos[:, None] > neg[None, :]).float().mean().item()


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=TWN["grad_accum"])
    model = TernaryMLP(TWN)
    optimizer = torch.optim.Adam(model.parameters(), lr=TWN["lr"])
    data = churn_table(TWN)
    loader = DataLoader(data, batch_size=TWN["batch"], shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.layers[0].weight.detach().clone()
    b0 = model.layers[0].bias.detach().clone()
    for epoch in range(TWN["epochs"]):
        train_epoch(model, loader, optimizer, accelerator)
    auc_proxy(model, data)
    return {"model": model}, {
        "latent_weights_changed": not torch.equal(w0, model.layers[0].weight),
        "bias_changed": not torch.equal(b0, model.layers[0].bias),
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
