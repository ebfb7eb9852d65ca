import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DurationPredictor(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, h):  # log-durations, one per phoneme
        return self.net(h).squeeze(-1)


class LengthRegulator(nn.Module):
    def forward(self, h, durations, max_frames):
        out = []
        for seq, dur in zip(h, durations):
            frames = torch.repeat_interleave(seq, dur.clamp(min=1), dim=0)[:max_frames]
            out.append(F.pad(frames, (0, 0, 0, max_frames - frames.size(0))))
        return torch.stack(out)


class TinyFastSpeech(pl.LightningModule):
    def __init__(self, n_phonemes=30, dim=16, n_mels=8, max_frames=24):
        super().__init__()
        self.embed = nn.Embedding(n_phonemes, dim)
        self.encoder = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.duration_predictor = DurationPredictor(dim)
        self.length_regulator = LengthRegulator()
        self.decoder = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, n_mels))
        self.max_frames = max_frames

    def forward(self, phonemes):
        h = self.encoder(self.embed(phonemes))
        durations = torch.round(torch.exp(self.duration_predictor(h))).long()
        frames = self.length_regulator(h, durations, self.max_frames)
        return self.decoder(frames)

    def training_step(self, batch, batch_idx):
        phonemes, mel = batch
        loss = F.l1_loss(self(phonemes), mel)
        self.log("mel_l1", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    phonemes = torch.randint(0, 30, (32, 8))
    mel = torch.randn(32, 24, 8)
    loader = DataLoader(TensorDataset(phonemes, mel), batch_size=8, shuffle=True)
    model = TinyFastSpeech()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
    return {"model": model}

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
