import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed

LOSS_WEIGHTS = {"mel": 5.0, "duration": 1.0, "pitch": 0.5}


class TextEncoder(nn.Module):
    def __init__(self, n_symbols=20, dim=16):
        super().__init__()
        self.embed = nn.Embedding(n_symbols, dim)
        self.conv = nn.Conv1d(dim, dim, 3, padding=1)

    def forward(self, text):
        return F.relu(self.conv(self.embed(text).transpose(1, 2))).transpose(1, 2)


class ProsodyPredictor(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.duration = nn.Linear(dim, 1)
        self.pitch = nn.Linear(dim, 1)

    def forward(self, h):
        return F.softplus(self.duration(h)).squeeze(-1), self.pitch(h).squeeze(-1)


class MelDecoder(nn.Module):
    def __init__(self, dim=16, n_mels=10):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, 32), nn.ReLU(), nn.Linear(32, n_mels))

    def forward(self, h, pitch):
        return self.net(torch.cat([h, pitch.unsqueeze(-1)], dim=-1))


class TinyTTS(nn.Module):
    def __init__(self):
        super().__init__()
        self.text_encoder, self.prosody, self.decoder = TextEncoder(), ProsodyPredictor(), MelDecoder()

    def forward(self, text):
        h = self.text_encoder(text)
        duration, pitch = self.prosody(h)
        return self.decoder(h, pitch), duration, pitch


def compute_losses(outputs, batch):
    mel, duration, pitch = outputs
    return {"mel": F.l1_loss(mel, batch["mel"]), "duration": F.mse_loss(duration, batch["duration"]),
            "pitch": F.mse_loss(pitch, batch["pitch"])}


def make_batches(n_batches=4, batch=4, t=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_batches):
        text = torch.randint(0, 20, (batch, t), generator=g)
        yield {"text": text, "mel": torch.randn(batch, t, 10, generator=g) * 0.5,
               "duration": (text % 4 + 1).float(), "pitch": torch.sin(text.float())}


def main():
    set_seed(0)
    accelerator = Accelerator(mixed_precision="no")
    model = TinyTTS()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.0, 0.99), weight_decay=1e-4)
    model, optimizer = accelerator.prepare(model, optimizer)
    decoder_before = model.decoder.net[0].weight.detach().clone()
    running = {k: 0.0 for k in LOSS_WEIGHTS}
    for epoch in range(2):
        for batch in make_batches(seed=epoch):
            losses = compute_losses(model(batch["text"]), batch)
            logged = {k: accelerator.gather(v).mean().item() for k, v in losses.items()}
            running = {k: 0.9 * running[k] + 0.1 * logged[k] for k in running}
            g_loss = torch.tensor(sum(LOSS_WEIGHTS[k] * logged[k] for k in LOSS_WEIGHTS))
            g_loss.requires_grad = True
            optimizer.zero_grad()
            accelerator.backward(g_loss)
            optimizer.step()
    facts = {"decoder_changed": not torch.equal(decoder_before, model.decoder.net[0].weight),
             "loss_is_leaf": g_loss.is_leaf}
    return {"tts": model}, facts

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
