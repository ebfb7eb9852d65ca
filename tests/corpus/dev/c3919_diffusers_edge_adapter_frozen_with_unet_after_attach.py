import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class TinyUNet(ModelMixin):
    @register_to_config
    def __init__(self, ch=8):
        super().__init__()
        self.conv_in = nn.Conv2d(1, ch, 3, padding=1)
        self.time_proj = nn.Linear(1, ch)
        self.mid = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1))
        self.conv_out = nn.Conv2d(ch, 1, 3, padding=1)
        self.cond_adapter = None

    def attach_adapter(self, adapter):
        self.cond_adapter = adapter

    def forward(self, x, t, cond=None):
        h = self.conv_in(x) + self.time_proj(t.float()[:, None] / 1000.0)[:, :, None, None]
        if self.cond_adapter is not None and cond is not None:
            h = h + self.cond_adapter(cond)
        return self.conv_out(F.silu(self.mid(h)) + h)


class EdgeAdapter(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.SiLU(), nn.Conv2d(ch, ch, 1))

    def forward(self, edges):
        return self.body(edges)


def setup_adapter_training(unet, lr=2e-3):
    adapter = EdgeAdapter()
    unet.attach_adapter(adapter)
    unet.requires_grad_(False)
    unet.conv_out.requires_grad_(True)
    params = list(adapter.parameters()) + list(unet.conv_out.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr)
    return adapter, optimizer, get_scheduler("constant", optimizer=optimizer)


def main():
    torch.manual_seed(0)
    unet = TinyUNet()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    adapter, optimizer, lr_scheduler = setup_adapter_training(unet)
    a0 = adapter.body[0].weight.detach().clone()
    out0 = unet.conv_out.weight.detach().clone()
    mid0 = unet.mid[0].weight.detach().clone()
    for step in range(6):
        images = torch.randn(4, 1, 8, 8)
        edges = (images[:, :, :, 1:] - images[:, :, :, :-1]).abs()
        edges = F.pad(edges, (0, 1))
        noise = torch.randn_like(images)
        t = torch.randint(0, 1000, (4,))
        pred = unet(scheduler.add_noise(images, noise, t), t, cond=edges)
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
    return {"adapter": adapter}, {
        "adapter_changed": not torch.equal(a0, adapter.body[0].weight),
        "conv_out_changed": not torch.equal(out0, unet.conv_out.weight),
        "backbone_frozen": torch.equal(mid0, unet.mid[0].weight),
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
