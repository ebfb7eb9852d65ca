import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric

CFG = {"vocab": 28, "hidden": 32, "n_mels": 10, "frames_per_token": 2, "lr": 2e-3, "epochs": 2, "pitch_weight": 0.1}


class FastPitchLite(nn.Module):
    """Non-autoregressive TTS: encoder, pitch predictor whose output is embedded back, decoder to mel frames."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab"], cfg["hidden"])
        self.encoder = nn.TransformerEncoderLayer(cfg["hidden"], 4, 2 * cfg["hidden"], dropout=0.0, batch_first=True)
        self.pitch_predictor = nn.Sequential(nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU(), nn.Linear(cfg["hidden"], 1))
        self.pitch_embed = nn.Conv1d(1, cfg["hidden"], 3, padding=1)
        self.decoder = nn.Sequential(nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU(), nn.Linear(cfg["hidden"], cfg["n_mels"]))

    def forward(self, ids, pitch_target):
        h = self.encoder(self.embed(ids))
        pitch_pred = self.pitch_predictor(h).squeeze(-1)
        h = h + self.pitch_embed(pitch_target[:, None]).transpose(1, 2)   # teacher-forced pitch conditioning
        h = h.repeat_interleave(self.cfg["frames_per_token"], dim=1)
        return self.decoder(h), pitch_pred


class MetricTracker:
    def __init__(self):
        self.rows = []

    def update(self, mel_loss, pitch_loss, pitch_pred, pitch_target):
        corr = np.corrcoef(pitch_pred.detach().cpu().numpy().ravel(), pitch_target.cpu().numpy().ravel())[0, 1]
        self.rows.append((mel_loss.item(), pitch_loss.item(), float(corr)))

    def summary(self):
        return np.asarray(self.rows).mean(0)


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, CFG["vocab"], (24, 8), generator=g)
    pitch = torch.sin(ids.float() / 4)
    mel = torch.randn(CFG["vocab"], CFG["n_mels"], generator=g)[ids].repeat_interleave(CFG["frames_per_token"], 1) + pitch.repeat_interleave(CFG["frames_per_token"], 1)[..., None]
    model = FastPitchLite(CFG)
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(ids, pitch, mel), batch_size=8, shuffle=True, generator=g))
    tracker = MetricTracker()
    p0 = model.module.pitch_predictor[0].weight.detach().clone()
    d0 = model.module.decoder[0].weight.detach().clone()
    for _ in range(CFG["epochs"]):
        for x, p, m in loader:
            mel_pred, pitch_pred = model(x, p)
            mel_loss = F.mse_loss(mel_pred, m)
            pitch_loss = F.mse_loss(pitch_pred, p)
            loss = mel_loss + CFG["pitch_weight"] * pitch_loss
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            tracker.update(mel_loss, pitch_loss, pitch_pred, p)
    tracker.summary()
    return {"model": model.module}, {
        "pitch_predictor_changed": not torch.equal(p0, model.module.pitch_predictor[0].weight),
        "decoder_changed": not torch.equal(d0, model.module.decoder[0].weight),
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
