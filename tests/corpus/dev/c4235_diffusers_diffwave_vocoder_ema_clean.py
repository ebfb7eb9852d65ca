import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


def diffusion_step_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], -1)


class ResidualLayer(nn.Module):
    def __init__(self, ch, n_mels, dilation):
        super().__init__()
        self.dilated = nn.Conv1d(ch, 2 * ch, 3, padding=dilation, dilation=dilation)
        self.cond = nn.Conv1d(n_mels, 2 * ch, 1)
        self.step = nn.Linear(ch, ch)
        self.out = nn.Conv1d(ch, 2 * ch, 1)

    def forward(self, x, mel_up, step_emb):
        y = self.dilated(x + self.step(step_emb)[:, :, None]) + self.cond(mel_up)
        gate, filt = y.chunk(2, 1)
        y = torch.sigmoid(gate) * torch.tanh(filt)
        residual, skip = self.out(y).chunk(2, 1)
        return (x + residual) / math.sqrt(2.0), skip


class DiffWave(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, residual_channels=8, n_mels=4, num_layers=2, hop=4):
        super().__init__()
        self.inp = nn.Conv1d(1, residual_channels, 1)
        self.upsample = nn.ConvTranspose1d(n_mels, n_mels, 2 * hop, stride=hop, padding=hop // 2)
        self.layers = nn.ModuleList([ResidualLayer(residual_channels, n_mels, 2 ** i) for i in range(num_layers)])
        self.skip_out = nn.Conv1d(residual_channels, 1, 1)

    def forward(self, noisy_audio, timesteps, mel):
        x = F.relu(self.inp(noisy_audio))
        mel_up = F.leaky_relu(self.upsample(mel), 0.4)
        emb = diffusion_step_embedding(timesteps, self.config.residual_channels)
        skips = 0
        for layer in self.layers:
            x, skip = layer(x, mel_up, emb)
            skips = skips + skip
        return self.skip_out(F.relu(skips / math.sqrt(len(self.layers))))


def ljspeech_like(n=8, frames=8, n_mels=4, hop=4):
    g = torch.Generator().manual_seed(0)
    audio = torch.tanh(torch.randn(n, 1, frames * hop, generator=g))
    mel = torch.randn(n, n_mels, frames, generator=g)
    return DataLoader(TensorDataset(audio, mel), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = DiffWave()
    ema = EMAModel(model.parameters(), decay=0.999)
    scheduler = DDPMScheduler(num_train_timesteps=50, beta_start=1e-4, beta_end=0.05)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=8)
    w0 = model.inp.weight.detach().clone()
    shadow0 = ema.shadow_params[0].clone()
    for _ in range(2):
        for audio, mel in ljspeech_like():
            noise = torch.randn_like(audio)
            noise.mul_(1.0 / noise.std())
            t = torch.randint(0, scheduler.config.num_train_timesteps, (audio.size(0),))
            noisy = scheduler.add_noise(audio, noise, t)
            loss = F.l1_loss(model(noisy, t, mel), noise)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_scheduler.step()
            ema.step(model.parameters())
    return {"model": model}, {
        "model_changed": not torch.equal(w0, model.inp.weight),
        "ema_moved": not torch.equal(shadow0, ema.shadow_params[0]),
        "ema_has_no_grad": all(not s.requires_grad for s in ema.shadow_params),
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
