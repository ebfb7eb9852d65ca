import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LearnableFrontend(nn.Module):
    def __init__(self, n_mels=20, n_bands=2):
        super().__init__()
        self.band_gains = [nn.Parameter(torch.ones(1, 1, n_mels)) for _ in range(n_bands)]
        self.norm = nn.InstanceNorm1d(n_mels, affine=True)

    def forward(self, logmel):
        x = logmel
        for gain in self.band_gains:
            x = x * gain
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class KWSNet(nn.Module):
    def __init__(self, n_mels=20, n_words=5):
        super().__init__()
        self.frontend = LearnableFrontend(n_mels)
        self.conv = nn.Sequential(nn.Conv1d(n_mels, 32, 3, padding=1), nn.BatchNorm1d(32), nn.ReLU(),
                                  nn.Conv1d(32, 32, 3, padding=2, dilation=2), nn.ReLU())
        self.classifier = nn.Linear(32, n_words)

    def forward(self, logmel):
        x = self.frontend(logmel).transpose(1, 2)
        return self.classifier(self.conv(x).mean(-1))


def make_loader():
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(40, 30, 20, generator=g), torch.randint(0, 5, (40,), generator=g)),
                      batch_size=8, shuffle=True, generator=g)


def run(fabric, model, optimizer, loader, epochs=2):
    model.train()
    for _ in range(epochs):
        for logmel, word in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(logmel), word, label_smoothing=0.1)
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = KWSNet()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-2)
    model, optimizer = fabric.setup(net, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    cls0 = net.classifier.weight.detach().clone()
    run(fabric, model, optimizer, loader)
    gain0 = net.frontend.band_gains[0]
    facts = {"band_gain_changed": not torch.equal(gain0.detach(), torch.ones_like(gain0)),
             "n_registered_gains": sum(1 for n, _ in net.named_parameters() if "gain" in n),
             "classifier_changed": not torch.equal(cls0, net.classifier.weight)}
    return {"gain0": gain0, "model": net}, facts

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
