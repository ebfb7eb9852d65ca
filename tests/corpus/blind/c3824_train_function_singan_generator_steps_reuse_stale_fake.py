import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class ScaleGenerator(nn.Module):
    """One scale of a SinGAN pyramid: refines the upsampled previous output given fresh noise."""

    def __init__(self, ch=16):
        super().__init__()
        self.body = nn.Sequential(conv_block(3, ch), conv_block(ch, ch))
        self.tail = nn.Sequential(nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())

    def forward(self, noise, prev):
        return self.tail(self.body(noise + prev)) + prev


class PatchDiscriminator(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.body = nn.Sequential(conv_block(3, ch), conv_block(ch, ch), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, x):
        return self.body(x)


def train_single_scale(net_g, net_d, real, prev, n_iter=2, d_steps=2, g_steps=3, alpha=10.0, noise_amp=0.1):
    opt_d = torch.optim.Adam(net_d.parameters(), lr=5e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=5e-4, betas=(0.5, 0.999))
    z_opt = torch.randn_like(real)
    for _ in range(n_iter):
        for _ in range(d_steps):
            net_d.zero_grad()
            err_d_real = -net_d(real).mean()
            err_d_real.backward(retain_graph=True)
            noise = noise_amp * torch.randn_like(real)
            fake = net_g(noise.detach(), prev)
            err_d_fake = net_d(fake.detach()).mean()
            err_d_fake.backward(retain_graph=True)
            opt_d.step()
        for _ in range(g_steps):
            net_g.zero_grad()
            output = net_d(fake)
            err_g = -output.mean()
            err_g.backward(retain_graph=True)
            rec_loss = alpha * F.mse_loss(net_g(noise_amp * z_opt, prev), real)
            rec_loss.backward(retain_graph=True)
            opt_g.step()
    return net_g, net_d


def main():
    torch.manual_seed(0)
    real = torch.tanh(torch.randn(1, 3, 16, 16))
    prev = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="bilinear", align_corners=False)
    net_g, net_d = ScaleGenerator(), PatchDiscriminator()
    w0 = net_g.body[0][0].weight.detach().clone()
    train_single_scale(net_g, net_d, real, prev)
    return {"net_g": net_g}, {"generator_changed": not torch.equal(w0, net_g.body[0][0].weight)}

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
