import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

TASKS = {"age": 1, "gender": 2, "emotion": 5}


def build_heads(hidden, tasks):
    heads = {}
    for name, n_out in tasks.items():
        heads[name] = nn.Sequential(nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, n_out))
    return nn.ModuleDict(heads)


class FaceAttributeNet(nn.Module):
    def __init__(self, in_dim=24, hidden=32, tasks=TASKS):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = build_heads(hidden, tasks)
        self.task_scales = nn.ParameterList([nn.Parameter(torch.zeros(())) for _ in tasks])

    def forward(self, x):
        h = self.backbone(x)
        return {name: head(h) for name, head in self.heads.items()}


def multitask_loss(model, outputs, targets):
    losses = [F.mse_loss(outputs["age"].squeeze(-1), targets[:, 0]),
              F.cross_entropy(outputs["gender"], targets[:, 1].long()),
              F.cross_entropy(outputs["emotion"], targets[:, 2].long())]
    return sum(torch.exp(-s) * l + s for s, l in zip(model.task_scales, losses))


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for x, targets in loader:
            optimizer.zero_grad()
            loss = multitask_loss(model, model(x), targets)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 24, generator=g)
    targets = torch.stack([x[:, 0], (x[:, 1] > 0).float(), (x[:, 2:7].argmax(dim=1)).float()], dim=1)
    model = FaceAttributeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, DataLoader(TensorDataset(x, targets), batch_size=16, shuffle=True, generator=g), optimizer)
    return {"model": model}, {"n_param_tensors": len(list(model.parameters()))}

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
