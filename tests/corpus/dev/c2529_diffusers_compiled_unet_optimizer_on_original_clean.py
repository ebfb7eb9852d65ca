import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from torch.utils.data import DataLoader, TensorDataset


class TinyUNet(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, in_channels=3, base=16):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(1, base), nn.SiLU(), nn.Linear(base, base))
        self.down = nn.Conv2d(in_channels, base, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(base, base, 3, padding=1)
        self.up = nn.ConvTranspose2d(base, in_channels, 4, stride=2, padding=1)

    def forward(self, x, t):
        h = F.silu(self.down(x)) + self.time_mlp(t[:, None])[:, :, None, None]
        return self.up(F.silu(self.mid(h)))


def make_schedule(T=100):
    betas = torch.linspace(1e-4, 0.02, T)
    return torch.cumprod(1 - betas, 0)


@torch.no_grad()
def sample_preview(model, alphas_bar, n=4, steps=3):
    x = torch.randn(n, 3, 8, 8)
    for t in reversed(range(0, len(alphas_bar), len(alphas_bar) // steps)):
        tt = torch.full((n,), float(t) / len(alphas_bar))
        eps = model(x, tt)
        a = alphas_bar[t]
        x = (x - (1 - a).sqrt() * eps) / a.sqrt()
    return x


def main():
    torch.manual_seed(0)
    unet = TinyUNet()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=2e-4, weight_decay=1e-2)
    unet = unet.to(memory_format=torch.channels_last)
    compiled_unet = torch.compile(unet, backend="eager")
    alphas_bar = make_schedule()
    images = torch.rand(8, 3, 8, 8) * 2 - 1
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    before = unet.mid.weight.detach().clone()
    compiled_unet.train()
    for (x0,) in loader:
        t = torch.randint(0, 100, (x0.size(0),))
        noise = torch.randn_like(x0)
        a = alphas_bar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = F.mse_loss(compiled_unet(xt, t.float() / 100), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    compiled_unet.eval()
    sample_preview(compiled_unet, alphas_bar)
    changed = not torch.equal(before, unet.mid.weight)
    return {"unet": unet}, {"unet_changed": changed, "wrapper_shares_training_flag": unet.training == compiled_unet.training}

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
