import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GatedFusion(nn.Module):
    def __init__(self, audio_dim=12, video_dim=20, dim=16):
        super().__init__()
        self.audio_proj = nn.Linear(audio_dim, dim)
        self.video_proj = nn.Linear(video_dim, dim)
        self.gate_logit = nn.Parameter(torch.zeros(()))

    def mixing_weight(self):
        return float(torch.sigmoid(self.gate_logit))

    def forward(self, audio, video):
        w = self.mixing_weight()
        return w * self.audio_proj(audio) + (1 - w) * self.video_proj(video)


class EmotionRecognizer(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.fusion = GatedFusion()
        self.classifier = nn.Sequential(nn.ReLU(), nn.Linear(16, n_classes))

    def forward(self, audio, video):
        return self.classifier(self.fusion(audio, video))


def train(model, loader, epochs=3):
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    for epoch in range(epochs):
        for audio, video, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(audio, video), labels)
            loss.backward()
            optimizer.step()
        scheduler.step()


def make_loader():
    g = torch.Generator().manual_seed(21)
    audio, video = torch.randn(40, 12, generator=g), torch.randn(40, 20, generator=g)
    labels = (audio[:, 0] > 0).long() + 2 * (audio[:, 1] > 0).long()
    return DataLoader(TensorDataset(audio, video, labels), batch_size=10, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = EmotionRecognizer()
    train(model, make_loader())
    return {"model": model}, {"audio_weight": round(model.fusion.mixing_weight(), 4)}

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
