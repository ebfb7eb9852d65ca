import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config


class LatentEncoder(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, in_dim=12, nz=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU())
        self.mu = nn.Linear(32, nz)
        self.logvar = nn.Linear(32, nz)

    def forward(self, x):
        h = self.net(x)
        return self.mu(h), self.logvar(h)


class ConditionalGenerator(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, cond_dim=6, nz=3, out_dim=12):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cond_dim + nz, 32), nn.ReLU(), nn.Linear(32, out_dim))

    def forward(self, cond, z):
        return self.net(torch.cat([cond, z], dim=1))


class MultimodalTranslator:
    """cVAE + latent regression (BicycleGAN-style objective without the adversarial terms)."""

    def __init__(self, lambda_kl=0.01, lambda_z=0.5, lambda_ms=0.1):
        self.E, self.G = LatentEncoder(), ConditionalGenerator()
        self.opt_E = torch.optim.Adam(self.E.parameters(), lr=1e-3)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=1e-3)
        self.lambda_kl, self.lambda_z, self.lambda_ms = lambda_kl, lambda_z, lambda_ms

    def forward(self, real_A, real_B):
        self.real_A, self.real_B = real_A, real_B
        self.mu, self.logvar = self.E(real_B)
        z_encoded = self.mu + torch.randn_like(self.mu) * (0.5 * self.logvar).exp()
        self.fake_B_encoded = self.G(real_A, z_encoded)
        self.z_random = torch.randn(real_A.shape[0], 3)
        self.z_random2 = torch.randn(real_A.shape[0], 3)
        self.fake_B_random = self.G(real_A, self.z_random)
        self.fake_B_random2 = self.G(real_A, self.z_random2)

    def backward_EG(self):
        loss_l1 = F.l1_loss(self.fake_B_encoded, self.real_B)
        loss_kl = -0.5 * torch.mean(1 + self.logvar - self.mu.pow(2) - self.logvar.exp())
        mode_seeking = F.l1_loss(self.fake_B_random, self.fake_B_random2) / F.l1_loss(self.z_random, self.z_random2)
        loss = loss_l1 + self.lambda_kl * loss_kl - self.lambda_ms * mode_seeking
        loss.backward()

    def backward_G_alone(self):
        mu2, _ = self.E(self.fake_B_random)
        loss_z_l1 = F.l1_loss(mu2, self.z_random) * self.lambda_z
        loss_z_l1.backward()

    def optimize_parameters(self, real_A, real_B):
        self.forward(real_A, real_B)
        self.opt_E.zero_grad()
        self.opt_G.zero_grad()
        self.backward_EG()
        self.E.requires_grad_(False)
        self.backward_G_alone()
        self.E.requires_grad_(True)
        self.opt_E.step()
        self.opt_G.step()


def main():
    torch.manual_seed(0)
    model = MultimodalTranslator()
    for _ in range(3):
        real_A = torch.randn(8, 6)
        real_B = torch.cat([real_A, real_A ** 2], dim=1) + 0.1 * torch.randn(8, 12)
        model.optimize_parameters(real_A, real_B)
    return {"G": model.G, "E": model.E}

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
