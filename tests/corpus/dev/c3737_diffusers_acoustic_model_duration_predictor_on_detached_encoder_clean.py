import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class VariancePredictor(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU())
        self.proj = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.proj(self.conv(x.transpose(1, 2)).transpose(1, 2)).squeeze(-1)


class NonAutoregressiveAcousticModel(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, n_phonemes=20, hidden=16, n_mels=8, predictor_grad=0.0):
        super().__init__()
        self.embed = nn.Embedding(n_phonemes, hidden)
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.duration_predictor = VariancePredictor(hidden)
        self.decoder = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_mels))
        self.predictor_grad = predictor_grad

    def length_regulate(self, x, durations):
        return torch.stack([torch.repeat_interleave(x[b], durations[b], dim=0) for b in range(x.shape[0])])

    def forward(self, phonemes, durations):
        x, _ = self.encoder(self.embed(phonemes))
        predictor_in = x.detach() + self.predictor_grad * (x - x.detach())
        log_dur_pred = self.duration_predictor(predictor_in)
        mel = self.decoder(self.length_regulate(x, durations))
        return mel, log_dur_pred


def make_loader(n=16, t=5):
    phonemes = torch.randint(0, 20, (n, t))
    durations = torch.full((n, t), 2, dtype=torch.long)
    durations[:, 0] = 3
    durations[:, -1] = 1
    mels = torch.randn(n, int(durations[0].sum()), 8)
    return DataLoader(TensorDataset(phonemes, durations, mels), batch_size=4, shuffle=True)


def main():
    torch.manual_seed(0)
    model = NonAutoregressiveAcousticModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    lr_scheduler = get_scheduler("constant", optimizer, num_warmup_steps=0, num_training_steps=8)
    enc0 = model.encoder.weight_ih_l0.detach().clone()
    dur0 = model.duration_predictor.proj.weight.detach().clone()
    for phonemes, durations, mels in make_loader():
        mel_pred, log_dur_pred = model(phonemes, durations)
        loss = F.l1_loss(mel_pred, mels) + F.mse_loss(log_dur_pred, torch.log(durations.float()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder.weight_ih_l0),
        "duration_predictor_changed": not torch.equal(dur0, model.duration_predictor.proj.weight),
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
