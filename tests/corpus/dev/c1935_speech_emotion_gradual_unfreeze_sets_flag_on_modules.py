import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvSubsampler(nn.Module):
    def __init__(self, n_mels=16, dim=32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, dim, 3, stride=2, padding=1), nn.GELU())

    def forward(self, mels):
        return self.conv(mels).transpose(1, 2)


class FFBlock(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class SpeechEncoder(nn.Module):
    """Stand-in for a pretrained wav2vec-style encoder."""

    def __init__(self, dim=32, n_layers=4):
        super().__init__()
        self.subsample = ConvSubsampler(dim=dim)
        self.layers = nn.ModuleList(FFBlock(dim) for _ in range(n_layers))

    def forward(self, mels):
        x = self.subsample(mels)
        for layer in self.layers:
            x = layer(x)
        return x


class EmotionClassifier(nn.Module):
    def __init__(self, n_emotions=4, dim=32):
        super().__init__()
        self.encoder = SpeechEncoder(dim)
        self.pool = nn.Linear(dim, 1)
        self.head = nn.Linear(dim, n_emotions)

    def forward(self, mels):
        h = self.encoder(mels)
        w = self.pool(h).softmax(dim=1)
        return self.head((w * h).sum(dim=1))


def freeze_encoder(model):
    model.encoder.requires_grad_(False)


def unfreeze_top(layers):
    for layer in layers:
        layer.requires_grad = True


def main():
    torch.manual_seed(0)
    mels = torch.randn(24, 16, 20)
    labels = torch.randint(0, 4, (24,))
    loader = DataLoader(TensorDataset(mels, labels), batch_size=8, shuffle=True)
    model = EmotionClassifier()
    freeze_encoder(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    top0 = model.encoder.layers[-1].ff[0].weight.detach().clone()
    for epoch in range(3):
        if epoch == 1:  # warm up the head first, then release the top two encoder layers
            unfreeze_top(model.encoder.layers[-2:])
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return ({"model": model},
            {"top_layers_changed": not torch.equal(top0, model.encoder.layers[-1].ff[0].weight),
             "bottom_layers_trainable": any(p.requires_grad for p in model.encoder.layers[0].parameters())})

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
