import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def encoder(nz=8):
    return nn.Sequential(nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(16, nz, 8))


class NetG(nn.Module):
    def __init__(self, nz=8):
        super().__init__()
        self.encoder1 = encoder(nz)
        self.decoder = nn.Sequential(nn.ConvTranspose2d(nz, 16, 8), nn.ReLU(), nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1), nn.Tanh())
        self.encoder2 = encoder(nz)

    def forward(self, x):
        latent_i = self.encoder1(x)
        fake = self.decoder(latent_i)
        return fake, latent_i, self.encoder2(fake)


class NetD(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 8 * 8, 1))

    def forward(self, x):
        f = self.features(x)
        return self.classifier(f), f


class Ganomaly:
    def __init__(self, accelerator, w_adv=1.0, w_con=50.0, w_enc=1.0):
        self.accelerator = accelerator
        netg, netd = NetG(), NetD()
        opt_g = torch.optim.Adam(netg.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(netd.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.netg, self.netd, self.opt_g, self.opt_d = accelerator.prepare(netg, netd, opt_g, opt_d)
        self.w_adv, self.w_con, self.w_enc = w_adv, w_con, w_enc

    def update_netg(self, image, fake, latent_i, latent_o):
        accelerator = self.accelerator
        self.opt_g.zero_grad()
        err_g_adv = self.w_adv * F.mse_loss(self.netd(fake)[1], self.netd(image)[1].detach())
        accelerator.backward(err_g_adv, retain_graph=True)
        err_g_rest = self.w_con * F.l1_loss(fake, image) + self.w_enc * F.mse_loss(latent_o, latent_i)
        accelerator.backward(err_g_rest)
        self.opt_g.step()

    def update_netd(self, image, fake):
        self.opt_d.zero_grad()
        d_real, d_fake = self.netd(image), self.netd(fake.detach())
        err_d = F.binary_cross_entropy_with_logits(d_real[0], torch.ones_like(d_real[0])) + \
            F.binary_cross_entropy_with_logits(d_fake[0], torch.zeros_like(d_fake[0]))
        self.accelerator.backward(err_d)
        self.opt_d.step()

    def optimize(self, image):
        fake, latent_i, latent_o = self.netg(image)
        self.update_netg(image, fake, latent_i, latent_o)
        self.update_netd(image, fake)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    loader = accelerator.prepare(DataLoader(TensorDataset(torch.rand(16, 1, 16, 16) * 2 - 1), batch_size=8))
    model = Ganomaly(accelerator)
    g0, d0 = model.netg.encoder1[0].weight.detach().clone(), model.netd.features[0].weight.detach().clone()
    for (image,) in loader:
        model.optimize(image)
    return {"netg": model.netg, "netd": model.netd}, {
        "encoder1_changed": not torch.equal(g0, model.netg.encoder1[0].weight),
        "discriminator_changed": not torch.equal(d0, model.netd.features[0].weight),
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
