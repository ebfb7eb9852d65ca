import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset


CONFIG = {
    "vocab": 24, "d_model": 32, "n_mels": 20, "n_bins": 8,
    "pitch_range": (-2.0, 2.0), "energy_range": (-2.0, 2.0),
    "lr": 2e-3, "epochs": 2, "batch_size": 4,
    "loss_weights": {"mel": 1.0, "duration": 1.0, "pitch": 0.5, "energy": 0.5},
}


class VariancePredictor(nn.Module):
    """Two conv layers + LayerNorm + a linear projection to one value per position (FastSpeech 2)."""

    def __init__(self, d):
        super().__init__()
        self.conv1 = nn.Conv1d(d, d, 3, padding=1)
        self.norm1 = nn.LayerNorm(d)
        self.conv2 = nn.Conv1d(d, d, 3, padding=1)
        self.norm2 = nn.LayerNorm(d)
        self.proj = nn.Linear(d, 1)

    def forward(self, x):
        h = self.norm1(F.relu(self.conv1(x.transpose(1, 2))).transpose(1, 2))
        h = self.norm2(F.relu(self.conv2(h.transpose(1, 2))).transpose(1, 2))
        return self.proj(h).squeeze(-1)


class VarianceAdaptor(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, nb = cfg["d_model"], cfg["n_bins"]
        self.duration_predictor = VariancePredictor(d)
        self.pitch_predictor = VariancePredictor(d)
        self.energy_predictor = VariancePredictor(d)
        self.register_buffer("pitch_bins", torch.linspace(*cfg["pitch_range"], nb - 1))
        self.register_buffer("energy_bins", torch.linspace(*cfg["energy_range"], nb - 1))
        self.pitch_embedding = nn.Embedding(nb, d)
        self.energy_embedding = nn.Embedding(nb, d)

    def forward(self, x, durations, pitch_target, energy_target):
        log_dur = self.duration_predictor(x)
        x = torch.repeat_interleave(x, durations[0], dim=1)  # length regulator (one utterance length per batch)
        pitch_pred = self.pitch_predictor(x)
        energy_pred = self.energy_predictor(x)
        # teacher forcing: ground-truth pitch / energy select the embeddings during training
        x = x + self.pitch_embedding(torch.bucketize(pitch_target, self.pitch_bins))
        x = x + self.energy_embedding(torch.bucketize(energy_target, self.energy_bins))
        return x, log_dur, pitch_pred, energy_pred


class FastSpeech2Lite(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.embed = nn.Embedding(cfg["vocab"], d)
        self.encoder = nn.Sequential(nn.Conv1d(d, d, 3, padding=1), nn.ReLU(), nn.Conv1d(d, d, 3, padding=1))
        self.variance_adaptor = VarianceAdaptor(cfg)
        self.decoder = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, cfg["n_mels"]))

    def forward(self, phonemes, durations, pitch, energy):
        h = self.encoder(self.embed(phonemes).transpose(1, 2)).transpose(1, 2)
        h, log_dur, pitch_pred, energy_pred = self.variance_adaptor(h, durations, pitch, energy)
        return self.decoder(h), log_dur, pitch_pred, energy_pred


def masked_mse(pred, target, mask):
    """MSE over the valid (non-padded) frames only."""
    p = pred.detach().cpu().numpy()
    t, m = target.cpu().numpy(), mask.cpu().numpy()
    return torch.tensor(float(np.mean((p[m] - t[m]) ** 2)), device=pred.device)


def fastspeech2_loss(outputs, batch, w):
    mel_pred, log_dur, pitch_pred, energy_pred = outputs
    mask = batch["frame_mask"]
    mel_loss = F.l1_loss(mel_pred[mask], batch["mel"][mask])
    dur_loss = F.mse_loss(log_dur, torch.log(batch["durations"].float() + 1))
    pitch_loss = masked_mse(pitch_pred, batch["pitch"], mask)
    energy_loss = masked_mse(energy_pred, batch["energy"], mask)
    return (w["mel"] * mel_loss + w["duration"] * dur_loss
            + w["pitch"] * pitch_loss + w["energy"] * energy_loss)


class LJSpeechLike(Dataset):
    def __init__(self, cfg, n=8, n_phon=6, dur=2):
        g = torch.Generator().manual_seed(0)
        self.items = []
        for _ in range(n):
            frames = n_phon * dur
            mask = torch.ones(frames, dtype=torch.bool)
            mask[-2:] = False  # trailing padding frames
            self.items.append({
                "phonemes": torch.randint(1, cfg["vocab"], (n_phon,), generator=g),
                "durations": torch.full((n_phon,), dur),
                "pitch": torch.randn(frames, generator=g), "energy": torch.randn(frames, generator=g),
                "mel": torch.randn(frames, cfg["n_mels"], generator=g), "frame_mask": mask,
            })

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def train_one_epoch(model, loader, optimizer, accelerator, cfg):
    model.train()
    for batch in loader:
        outputs = model(batch["phonemes"], batch["durations"], batch["pitch"], batch["energy"])
        loss = fastspeech2_loss(outputs, batch, cfg["loss_weights"])
        optimizer.zero_grad()
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = FastSpeech2Lite(CONFIG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG["lr"], betas=(0.9, 0.98))
    loader = DataLoader(LJSpeechLike(CONFIG), batch_size=CONFIG["batch_size"], shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    va = model.variance_adaptor
    p0 = va.pitch_predictor.proj.weight.detach().clone()
    e0 = va.energy_predictor.conv1.weight.detach().clone()
    enc0 = model.encoder[0].weight.detach().clone()
    for _ in range(CONFIG["epochs"]):
        train_one_epoch(model, loader, optimizer, accelerator, CONFIG)
    return {"model": model}, {
        "pitch_predictor_changed": not torch.equal(p0, va.pitch_predictor.proj.weight),
        "energy_predictor_changed": not torch.equal(e0, va.energy_predictor.conv1.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
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
