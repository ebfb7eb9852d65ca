import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed

CFG = {"vocab": 30, "hidden": 32, "n_mels": 12, "max_dur": 3, "dur_weight": 1.0, "lr": 2e-3, "grad_accum": 2}


class TextEncoder(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.conv = nn.Sequential(nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU(), nn.Conv1d(hidden, hidden, 3, padding=1))

    def forward(self, ids):
        return self.conv(self.embed(ids).transpose(1, 2)).transpose(1, 2)


class DurationPredictor(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU(), nn.Dropout(0.0),
                                 nn.Conv1d(hidden, 1, 1))

    def forward(self, h):
        return self.net(h.detach().transpose(1, 2)).squeeze(1)   # VITS: stop-gradient into the text encoder


class TinyVITS(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = TextEncoder(cfg["vocab"], cfg["hidden"])
        self.duration_predictor = DurationPredictor(cfg["hidden"])
        self.decoder = nn.GRU(cfg["hidden"], cfg["hidden"], batch_first=True)
        self.to_mel = nn.Linear(cfg["hidden"], cfg["n_mels"])

    def forward(self, ids, durations):
        h = self.encoder(ids)
        log_dur_pred = self.duration_predictor(h)
        frames = torch.stack([torch.repeat_interleave(h[b], durations[b], dim=0) for b in range(h.shape[0])])
        mel = self.to_mel(self.decoder(frames)[0])
        return mel, log_dur_pred


def duration_loss(log_dur_pred, durations):
    """MSE in the log domain, accumulated per utterance for the logger."""
    per_utt = [F.mse_loss(p, torch.log(d.float() + 1)).item() for p, d in zip(log_dur_pred, durations)]
    return torch.tensor(sum(per_utt) / len(per_utt))


def train(accelerator, model, optimizer, loader, cfg, epochs=2):
    for _ in range(epochs):
        for ids, durations, mel_target in loader:
            with accelerator.accumulate(model):
                mel, log_dur = model(ids, durations)
                loss = F.l1_loss(mel, mel_target) + cfg["dur_weight"] * duration_loss(log_dur, durations)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()


def make_data(cfg, n=16, length=6):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg["vocab"], (n, length), generator=g)
    durations = torch.full((n, length), 2, dtype=torch.long)
    durations[:, ::2] = 1 + (ids[:, ::2] % cfg["max_dur"])
    durations[:, 1::2] = 1 + cfg["max_dur"] - durations[:, ::2]
    table = torch.randn(cfg["vocab"], cfg["n_mels"], generator=g)
    mel = torch.stack([torch.repeat_interleave(table[ids[b]], durations[b], dim=0) for b in range(n)])
    return DataLoader(TensorDataset(ids, durations, mel), batch_size=4, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=CFG["grad_accum"])
    model = TinyVITS(CFG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"])
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_data(CFG))
    dp0 = model.duration_predictor.net[0].weight.detach().clone()
    enc0 = model.encoder.conv[0].weight.detach().clone()
    train(accelerator, model, optimizer, loader, CFG)
    return {"model": model}, {
        "duration_predictor_changed": not torch.equal(dp0, model.duration_predictor.net[0].weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.conv[0].weight),
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
