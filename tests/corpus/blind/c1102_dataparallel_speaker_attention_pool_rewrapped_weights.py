import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FrameEncoder(nn.Module):
    def __init__(self, n_mels=12, dim=24):
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, dim, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(dim, dim, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm1d(dim)

    def forward(self, mels):  # (B, n_mels, T) -> (B, T, dim)
        h = F.relu(self.conv1(mels))
        h = F.relu(self.norm(self.conv2(h)))
        return h.transpose(1, 2)


class AttentionPool(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, frames):
        scores = self.score(frames).squeeze(-1)
        weights = torch.tensor(F.softmax(scores, dim=1), dtype=frames.dtype)
        return (weights.unsqueeze(-1) * frames).sum(dim=1)


class SpeakerClassifier(nn.Module):
    def __init__(self, n_speakers=6, dim=24):
        super().__init__()
        self.encoder = FrameEncoder(dim=dim)
        self.pool = AttentionPool(dim)
        self.classifier = nn.Linear(dim, n_speakers)

    def forward(self, mels):
        return self.classifier(self.pool(self.encoder(mels)))


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for mels, speaker in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(mels), speaker)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    mels = torch.randn(48, 12, 20)
    speaker = torch.randint(0, 6, (48,))
    loader = DataLoader(TensorDataset(mels, speaker), batch_size=12, shuffle=True)
    net = SpeakerClassifier()
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train(model, loader, optimizer)
    return {"model": net}

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
