import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AutoEncoder(nn.Module):
    def __init__(self, n_in=20, latent=8, n_attr=1):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(n_in, 32), nn.LeakyReLU(0.2), nn.Linear(32, latent))
        self.dec = nn.Sequential(nn.Linear(latent + n_attr, 32), nn.LeakyReLU(0.2), nn.Linear(32, n_in))

    def encode(self, x):
        return self.enc(x)

    def decode(self, z, attr):
        return self.dec(torch.cat([z, attr], dim=1))


class LatentDiscriminator(nn.Module):
    def __init__(self, latent=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 16), nn.LeakyReLU(0.2), nn.Dropout(0.2), nn.Linear(16, 1))

    def forward(self, z):
        return self.net(z).squeeze(-1)


def discriminator_step(ae, lat_dis, lat_dis_opt, x, attr):
    ae.eval()
    lat_dis.train()
    with torch.no_grad():
        enc_outputs = ae.module.encode(x)
    preds = lat_dis(enc_outputs.detach())
    loss = F.binary_cross_entropy_with_logits(preds, attr.squeeze(1))
    lat_dis_opt.zero_grad()
    loss.backward()
    lat_dis_opt.step()
    return loss.item()


def autoencoder_step(ae, lat_dis, ae_opt, x, attr, lambda_dis=0.1):
    ae.train()
    lat_dis.eval()
    z = ae.module.encode(x)
    recon = ae.module.decode(z, attr)
    fool = F.binary_cross_entropy_with_logits(lat_dis(z), 1.0 - attr.squeeze(1))
    loss = F.mse_loss(recon, x) + lambda_dis * fool
    ae_opt.zero_grad()
    loss.backward()
    ae_opt.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    attr = (torch.rand(64, 1, generator=g) > 0.5).float()
    x = torch.randn(64, 20, generator=g) + 1.5 * attr
    loader = DataLoader(TensorDataset(x, attr), batch_size=16, shuffle=True, generator=g)
    ae = nn.DataParallel(AutoEncoder())
    lat_dis = LatentDiscriminator()
    ae_opt = torch.optim.Adam(ae.parameters(), lr=2e-3, betas=(0.5, 0.999))
    lat_dis_opt = torch.optim.Adam(lat_dis.parameters(), lr=2e-3, betas=(0.5, 0.999))
    e0, d0 = ae.module.enc[0].weight.detach().clone(), lat_dis.net[0].weight.detach().clone()
    for epoch in range(2):
        for xb, ab in loader:
            discriminator_step(ae, lat_dis, lat_dis_opt, xb, ab)
            autoencoder_step(ae, lat_dis, ae_opt, xb, ab)
    return ({"ae": ae.module},
            {"encoder_changed": not torch.equal(e0, ae.module.enc[0].weight),
             "discriminator_changed": not torch.equal(d0, lat_dis.net[0].weight)})

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
