import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AudioEncoder(nn.Module):
    def __init__(self, n_mels=8, dim=16):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1))
        self.proj = nn.Linear(16, dim)

    def forward(self, mel):
        return F.normalize(self.proj(self.conv(mel).squeeze(-1)), dim=-1)


class TextEncoder(nn.Module):
    def __init__(self, vocab=20, dim=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, 16)
        self.proj = nn.Linear(16, dim)

    def forward(self, tokens):
        return F.normalize(self.proj(self.embed(tokens)), dim=-1)


def build_clap(lr=2e-3):
    audio, text = AudioEncoder(), TextEncoder()
    logit_scale = torch.ones([], requires_grad=True) * math.log(1 / 0.07)
    params = list(audio.parameters()) + list(text.parameters()) + [logit_scale]
    optimizer = torch.optim.AdamW(params, lr=lr)
    return audio, text, logit_scale, optimizer


def clap_loss(a, t, logit_scale):
    logits = logit_scale.exp() * a @ t.t()
    target = torch.arange(a.shape[0])
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def train(audio, text, logit_scale, optimizer, loader, epochs=2):
    for _ in range(epochs):
        for mel, tokens in loader:
            loss = clap_loss(audio(mel), text(tokens), logit_scale)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    mel = torch.randn(32, 8, 10)
    tokens = torch.randint(0, 20, (32, 5))
    loader = DataLoader(TensorDataset(mel, tokens), batch_size=8, shuffle=True)
    audio, text, logit_scale, optimizer = build_clap()
    proj0 = audio.proj.weight.detach().clone()
    train(audio, text, logit_scale, optimizer, loader)
    return {"audio": audio, "text": text}, {"audio_changed": not torch.equal(proj0, audio.proj.weight)}

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
