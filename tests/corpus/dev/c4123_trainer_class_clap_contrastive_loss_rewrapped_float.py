import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class AudioEncoder(nn.Module):
    def __init__(self, n_mels=16, d=32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, d, 3, padding=1), nn.GELU(), nn.Conv1d(d, d, 3, padding=1))
        self.proj = nn.Linear(d, d)

    def forward(self, mel):  # (B, n_mels, T)
        return self.proj(self.conv(mel).mean(-1))


class TextEncoder(nn.Module):
    def __init__(self, vocab=50, d=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.rnn = nn.GRU(d, d, batch_first=True)
        self.proj = nn.Linear(d, d)

    def forward(self, tokens):
        _, h = self.rnn(self.emb(tokens))
        return self.proj(h[-1])


class CLAP(nn.Module):
    def __init__(self):
        super().__init__()
        self.audio = AudioEncoder()
        self.text = TextEncoder()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, mel, tokens):
        a = F.normalize(self.audio(mel), dim=-1)
        t = F.normalize(self.text(tokens), dim=-1)
        return self.logit_scale.exp() * a @ t.t()


def symmetric_infonce(logits):
    """Returns the loss value and the retrieval accuracy for the progress bar."""
    labels = torch.arange(logits.size(0))
    loss_a = F.cross_entropy(logits, labels)
    loss_t = F.cross_entropy(logits.t(), labels)
    acc = (logits.argmax(1) == labels).float().mean().item()
    return float((loss_a + loss_t) / 2), acc


class ContrastiveTrainer:
    def __init__(self, model, cfg):
        self.model = model
        self.cfg = cfg
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])
        self.step = 0

    def training_step(self, mel, tokens):
        logits = self.model(mel, tokens)
        loss_value, acc = symmetric_infonce(logits)
        loss = torch.tensor(loss_value, requires_grad=True)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return loss_value, acc

    def fit(self, batches, epochs):
        for _ in range(epochs):
            for mel, tokens in batches:
                self.training_step(mel, tokens)


def audio_text_pairs(n_batches=4, b=8):
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(b, 16, 20, generator=g), torch.randint(0, 50, (b, 6), generator=g)) for _ in range(n_batches)]


def main():
    torch.manual_seed(0)
    model = CLAP()
    audio0 = model.audio.proj.weight.detach().clone()
    trainer = ContrastiveTrainer(model, {"lr": 1e-3, "wd": 0.01})
    trainer.fit(audio_text_pairs(), epochs=2)
    return {"model": model}, {
        "audio_changed": not torch.equal(audio0, model.audio.proj.weight),
        "steps": trainer.step,
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
