import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class CheckpointFunction(torch.autograd.Function):
    """Activation checkpointing: run the block without saving activations, recompute in backward."""

    @staticmethod
    def forward(ctx, run_function, x):
        ctx.run_function = run_function
        ctx.save_for_backward(x)
        with torch.no_grad():
            return run_function(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            out = ctx.run_function(x)
        (grad_x,) = torch.autograd.grad(out, (x,), grad_output)
        return None, grad_x


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm = nn.GroupNorm(2, ch)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.silu(self.conv1(F.silu(self.norm(x)))))


class CheckpointedUNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8, gradient_checkpointing=True):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.time_mlp = nn.Linear(1, ch)
        self.mid_block = ResBlock(ch)
        self.conv_out = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, x, t):
        h = self.conv_in(x) + self.time_mlp(t.float()[:, None] / 100)[:, :, None, None]
        if self.config.gradient_checkpointing and self.training:
            h = CheckpointFunction.apply(self.mid_block, h)
        else:
            h = self.mid_block(h)
        return self.conv_out(F.silu(h))


def main():
    torch.manual_seed(0)
    unet = CheckpointedUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g)), batch_size=4, shuffle=True, generator=g)
    mid0 = unet.mid_block.conv1.weight.detach().clone()
    unet.train()
    for epoch in range(2):
        for (images,) in loader:
            noise = torch.randn_like(images)
            t = torch.randint(0, 100, (images.shape[0],))
            loss = F.mse_loss(unet(noise_scheduler.add_noise(images, noise, t), t), noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
    return {"unet": unet}, {"mid_block_changed": not torch.equal(mid0, unet.mid_block.conv1.weight)}

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
