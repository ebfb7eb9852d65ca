import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GATES = 4  # AND, OR, XOR, NAND on relaxed inputs


def relaxed_gates(a, b):
    return torch.stack([a * b, a + b - a * b, a + b - 2 * a * b, 1 - a * b], dim=-1)


class LogicConv2d(nn.Module):
    """Differentiable logic-gate convolution: each output channel mixes 4 gates over two input pixels."""

    def __init__(self, cin, cout, discretize=False):
        super().__init__()
        self.gate_logits = nn.Parameter(torch.randn(cout, GATES))
        self.register_buffer("pairs", torch.randint(0, cin, (cout, 2)))
        self.discretize = discretize

    def forward(self, x):
        a, b = torch.sigmoid(x[:, self.pairs[:, 0]]), torch.sigmoid(x[:, self.pairs[:, 1]])
        gates = relaxed_gates(a, b)  # B x C x H x W x G
        if self.discretize:
            # "export mode": pick each channel's most likely gate, as the hardware will
            choice = self.gate_logits.detach().cpu().numpy().argmax(axis=1)
            g_np = gates.detach().cpu().numpy()
            out = np.take_along_axis(g_np, choice[None, :, None, None, None], axis=-1)[..., 0]
            return torch.from_numpy(out).to(x.device)
        weights = F.softmax(self.gate_logits, dim=-1)
        return (gates * weights[None, :, None, None, :]).sum(-1)


class LogicNet(nn.Module):
    def __init__(self, discretize=False):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, padding=1)
        self.logic = LogicConv2d(8, 16, discretize=discretize)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        h = self.logic(self.stem(x))
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))


def train(model, batches, optimizer):
    for images, labels in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.rand(8, 1, 8, 8, generator=g), torch.randint(0, 10, (8,), generator=g)) for _ in range(3)]
    cfg = {"discretize_in_training": True}  # train the network that will be deployed
    net = LogicNet(discretize=cfg["discretize_in_training"])
    model = nn.DataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    g0 = net.logic.gate_logits.detach().clone()
    train(model, batches, optimizer)
    return {"model": net}, {"gate_logits_changed": not torch.equal(g0, net.logic.gate_logits)}

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
