import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class AudioEncoder(nn.Module):
    def __init__(self, n_mels=8, dim=16, n_layers=2):
        super().__init__()
        self.layers = nn.ModuleList(nn.Conv1d(n_mels if i == 0 else dim, dim, 3, padding=1) for i in range(n_layers))

    def _freeze_parameters(self):
        for p in self.parameters():
            p.requires_grad = False

    def forward(self, mel):
        h = mel
        for conv in self.layers:
            h = F.gelu(conv(h))
        return h.mean(-1)


class CondUNet(nn.Module):
    def __init__(self, ch=8, cond_dim=16):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.cond_proj = nn.Linear(cond_dim + 1, ch)
        self.mid = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv_out = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, t, cond):
        emb = self.cond_proj(torch.cat([cond, t.float().unsqueeze(-1) / 1000], -1))
        h = F.silu(self.conv_in(x)) + emb[:, :, None, None]
        return self.conv_out(F.silu(self.mid(h)))


class AudioDrivenDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, n_mels=8, cond_dim=16):
        super().__init__()
        self.audio_encoder = AudioEncoder(n_mels, cond_dim)
        self.unet = CondUNet(cond_dim=cond_dim)

    def forward(self, noisy, t, mel):
        return self.unet(noisy, t, self.audio_encoder(mel))


def build_model(trainable_audio_layers=1):
    model = AudioDrivenDenoiser()
    for layer in model.audio_encoder.layers[-trainable_audio_layers:]:
        layer.requires_grad_(True)
    model.audio_encoder._freeze_parameters()
    return model


def main():
    torch.manual_seed(0)
    model = build_model()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    lr_scheduler = get_scheduler("constant", optimizer)
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(8, 3, 8, 8, generator=g), torch.randn(8, 8, 12, generator=g))
    for frames, mel in DataLoader(data, batch_size=4, shuffle=True, generator=g):
        optimizer.zero_grad()
        noise = torch.randn_like(frames)
        t = torch.randint(0, 100, (frames.size(0),))
        noisy = noise_scheduler.add_noise(frames, noise, t)
        loss = F.mse_loss(model(noisy, t, mel), noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    facts = {"audio_top_trainable": model.audio_encoder.layers[1].weight.requires_grad}
    return {"model": model}, facts

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
