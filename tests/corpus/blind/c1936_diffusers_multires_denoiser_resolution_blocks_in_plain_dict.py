import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm = nn.GroupNorm(4, ch)
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.conv(F.silu(self.norm(x)))


class MultiResDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=16, resolutions=(8, 4)):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.time_mlp = nn.Sequential(nn.Linear(1, width), nn.SiLU(), nn.Linear(width, width))
        self.res_blocks = {str(r): ResBlock(width) for r in resolutions}
        self.down = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(width, width, 2, stride=2)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x, t):
        h = self.conv_in(x) + self.time_mlp(t.float()[:, None] / 1000)[:, :, None, None]
        h_hi = self.res_blocks[str(h.size(-1))](h)
        h_lo = self.down(h_hi)
        h_lo = self.res_blocks[str(h_lo.size(-1))](h_lo)
        return self.conv_out(h_hi + self.up(h_lo))


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    model = MultiResDenoiser()
    ema = EMAModel(model.parameters(), decay=0.99)
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    images = torch.rand(16, 3, 8, 8) * 2 - 1
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=1, num_training_steps=8)
    model, optimizer, loader, lr_scheduler = accelerator.prepare(model, optimizer, loader, lr_scheduler)
    block = model.res_blocks["8"].conv
    w0 = block.weight.detach().clone()
    for epoch in range(2):
        for (x0,) in loader:
            noise = torch.randn_like(x0)
            t = torch.randint(0, 100, (x0.size(0),))
            loss = F.mse_loss(model(noise_scheduler.add_noise(x0, noise, t), t), noise)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            ema.step(model.parameters())
    return {"model": model, "res_block_8_conv": block.weight}, {"res_block_changed": not torch.equal(w0, block.weight)}

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
