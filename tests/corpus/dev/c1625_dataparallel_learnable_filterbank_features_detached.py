import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LearnableFilterbank(nn.Module):
    """Trainable front end on the raw waveform (a strided conv bank followed by log compression)."""

    def __init__(self, n_filters=10, kernel=16, stride=8):
        super().__init__()
        self.conv = nn.Conv1d(1, n_filters, kernel, stride=stride, bias=False)

    def forward(self, wav):
        return torch.log1p(self.conv(wav.unsqueeze(1)).pow(2))


class InputNormalization(nn.Module):
    def forward(self, feats):
        return (feats - feats.mean(dim=-1, keepdim=True)) / (feats.std(dim=-1, keepdim=True) + 1e-5)


class KeywordSpotter(nn.Module):
    def __init__(self, n_keywords=4):
        super().__init__()
        self.compute_features = LearnableFilterbank()
        self.mean_var_norm = InputNormalization()
        self.enc = nn.Sequential(nn.Conv1d(10, 16, 3, padding=1), nn.BatchNorm1d(16), nn.ReLU(),
                                 nn.Conv1d(16, 16, 3, padding=1), nn.ReLU())
        self.classifier = nn.Linear(16, n_keywords)

    def prepare_features(self, wavs):
        feats = self.compute_features(wavs)
        return self.mean_var_norm(feats)

    def forward(self, wavs):
        feats = self.prepare_features(wavs)
        x = self.enc(feats.detach())
        return self.classifier(x.mean(dim=-1))


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for wavs, keyword in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(wavs), keyword)
            loss.backward()
            optimizer.step()
        scheduler.step()


def make_loader(n=64, length=400):
    g = torch.Generator().manual_seed(23)
    keyword = torch.randint(0, 4, (n,), generator=g)
    t = torch.arange(length) / 8000.0
    freqs = torch.tensor([300.0, 700.0, 1300.0, 2100.0])[keyword]
    wavs = torch.sin(2 * torch.pi * freqs[:, None] * t) + 0.3 * torch.randn(n, length, generator=g)
    return DataLoader(TensorDataset(wavs, keyword), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(KeywordSpotter())
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    fb0 = model.module.compute_features.conv.weight.detach().clone()
    train(model, make_loader(), optimizer, scheduler)
    return ({"model": model.module},
            {"filterbank_changed": not torch.equal(fb0, model.module.compute_features.conv.weight)})

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
