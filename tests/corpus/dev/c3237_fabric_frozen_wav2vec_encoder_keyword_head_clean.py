import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class PretrainedEncoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.feature = nn.Sequential(nn.Conv1d(1, dim, 8, stride=4), nn.GELU())
        self.context = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(0.1)

    def forward(self, wav):
        h = self.feature(wav.unsqueeze(1)).transpose(1, 2)
        return self.dropout(torch.tanh(self.context(h)))


class KeywordSpotter(nn.Module):
    def __init__(self, n_keywords=5, dim=16, freeze_encoder=True):
        super().__init__()
        self.encoder = PretrainedEncoder(dim)
        if freeze_encoder:
            self.encoder.requires_grad_(False)
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, n_keywords))

    def forward(self, wav):
        return self.head(self.encoder(wav).mean(1))


def clips(n=16, length=64):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, length, generator=g), torch.randint(0, 5, (n,), generator=g)),
                      batch_size=4, shuffle=True, generator=g)


def run_epoch(fabric, model, loader, optimizer):
    model.train()
    total = 0.0
    for wav, label in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(wav), label)
        fabric.backward(loss)
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = KeywordSpotter()
    optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(clips())
    core = model.module
    e0, h0 = core.encoder.context.weight.detach().clone(), core.head[0].weight.detach().clone()
    run_epoch(fabric, model, loader, optimizer)
    facts = {"encoder_changed": not torch.equal(e0, core.encoder.context.weight),
             "head_changed": not torch.equal(h0, core.head[0].weight)}
    return {"model": core}, facts

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
