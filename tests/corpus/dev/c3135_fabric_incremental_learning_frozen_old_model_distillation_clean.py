import copy

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class IncrementalNet(nn.Module):
    def __init__(self, in_dim=20, feat=32, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(in_dim, feat), nn.ReLU(), nn.Linear(feat, feat), nn.ReLU())
        self.head = nn.Linear(feat, n_classes)

    def expand_head(self, n_new):
        old = self.head
        self.head = nn.Linear(old.in_features, old.out_features + n_new)
        with torch.no_grad():
            self.head.weight[: old.out_features].copy_(old.weight)
            self.head.bias[: old.out_features].copy_(old.bias)

    def forward(self, x):
        return self.head(self.features(x))


def distill_loss(new_logits, old_logits, T=2.0):
    n_old = old_logits.shape[1]
    return F.kl_div(F.log_softmax(new_logits[:, :n_old] / T, -1), F.softmax(old_logits / T, -1),
                    reduction="batchmean") * T * T


def train_task(fabric, model, old_model, loader, epochs=2, lam=1.0):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model, optimizer = fabric.setup(model, optimizer)
    for _ in range(epochs):
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            if old_model is not None:
                old_logits = old_model(x).detach()
                loss = loss + lam * distill_loss(logits, old_logits)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return model


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 20, generator=g)
    task1 = DataLoader(TensorDataset(x, torch.randint(0, 4, (32,), generator=g)), batch_size=8)
    task2 = DataLoader(TensorDataset(x + 1.0, torch.randint(4, 6, (32,), generator=g)), batch_size=8)
    net = IncrementalNet()
    train_task(fabric, net, None, task1)
    old_model = copy.deepcopy(net)
    old_model.eval()
    old_model.requires_grad_(False)
    net.expand_head(2)
    f0, old0 = net.features[0].weight.detach().clone(), old_model.features[0].weight.detach().clone()
    h0 = net.head.weight[4:].detach().clone()
    train_task(fabric, net, old_model, task2)
    facts = {"old_model_changed": not torch.equal(old0, old_model.features[0].weight),
             "features_changed": not torch.equal(f0, net.features[0].weight),
             "new_head_rows_changed": not torch.equal(h0, net.head.weight[4:])}
    return {"model": net, "old_model": old_model}, facts

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
