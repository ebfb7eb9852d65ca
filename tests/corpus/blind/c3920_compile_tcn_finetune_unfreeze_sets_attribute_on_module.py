import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TCNBlock(nn.Module):
    def __init__(self, ch, dilation):
        super().__init__()
        self.conv = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.norm = nn.BatchNorm1d(ch)

    def forward(self, x):
        return x + F.relu(self.norm(self.conv(x)))


class ActivityTCN(nn.Module):
    def __init__(self, n_channels=3, ch=16, n_classes=4):
        super().__init__()
        self.stem = nn.Conv1d(n_channels, ch, 1)
        self.blocks = nn.Sequential(TCNBlock(ch, 1), TCNBlock(ch, 2), TCNBlock(ch, 4))
        self.head = nn.Linear(ch, n_classes)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean(-1))


def prepare_for_finetuning(model):
    for p in model.parameters():
        p.requires_grad = False
    model.blocks[2].requires_grad = True
    model.head = nn.Linear(model.head.in_features, 4)
    return [p for p in model.parameters() if p.requires_grad]


def finetune(model, loader, epochs=2):
    params = prepare_for_finetuning(model)
    optimizer = torch.optim.Adam(params, lr=3e-3)
    compiled = torch.compile(model, backend="eager")
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(compiled(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(48, 3, 20)
    y = (x[:, 0].mean(-1) > 0).long() + 2 * (x[:, 1].std(-1) > 1).long()
    model = ActivityTCN()
    last0 = model.blocks[2].conv.weight.detach().clone()
    finetune(model, DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True))
    return {"model": model}, {
        "last_block_changed": not torch.equal(last0, model.blocks[2].conv.weight),
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
