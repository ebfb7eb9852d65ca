import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.distributions import Normal, kl_divergence
from torch.utils.data import DataLoader, TensorDataset


class ObsEncoder(nn.Module):
    def __init__(self, z_dim=8):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 4, stride=2, padding=1), nn.ELU(),
                                  nn.Conv2d(8, 16, 4, stride=2, padding=1), nn.ELU(), nn.Flatten())
        self.stats = nn.Linear(16 * 4 * 4, 2 * z_dim)

    def forward(self, obs):
        mean, raw_std = self.stats(self.conv(obs)).chunk(2, dim=-1)
        return Normal(mean, F.softplus(raw_std) + 0.1)


class ObsDecoder(nn.Module):
    def __init__(self, z_dim=8):
        super().__init__()
        self.fc = nn.Linear(z_dim, 16 * 4 * 4)
        self.deconv = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ELU(),
                                    nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1))

    def forward(self, z):
        return self.deconv(self.fc(z).view(-1, 16, 4, 4))


class WorldModel(nn.Module):
    def __init__(self, z_dim=8):
        super().__init__()
        self.encoder = ObsEncoder(z_dim)
        self.decoder = ObsDecoder(z_dim)
        self.reward_head = nn.Sequential(nn.Linear(z_dim, 32), nn.ELU(), nn.Linear(32, 1))
        self.z_dim = z_dim

    def loss(self, obs, reward, free_nats=3.0):
        posterior = self.encoder(obs)
        z = posterior.sample()
        recon_loss = F.mse_loss(self.decoder(z), obs)
        reward_loss = F.mse_loss(self.reward_head(z).squeeze(-1), reward)
        prior = Normal(torch.zeros_like(posterior.mean), torch.ones_like(posterior.stddev))
        kl = kl_divergence(posterior, prior).sum(-1).mean()
        kl = torch.clamp(kl, min=free_nats)
        return recon_loss + reward_loss + kl


def train(fabric, model, optimizer, loader, epochs=2):
    model.train()
    for _ in range(epochs):
        for obs, reward in loader:
            loss = model.loss(obs, reward)
            optimizer.zero_grad()
            fabric.backward(loss)
            fabric.clip_gradients(model, optimizer, max_norm=100.0)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    obs, reward = torch.rand(16, 3, 16, 16), torch.randn(16)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(obs, reward), batch_size=8, shuffle=True))
    world_model = WorldModel()
    optimizer = torch.optim.Adam(world_model.parameters(), lr=6e-4, eps=1e-5)
    model, optimizer = fabric.setup(world_model, optimizer)
    enc0 = world_model.encoder.stats.weight.detach().clone()
    train(fabric, model, optimizer, loader)
    return ({"world_model": world_model},
            {"encoder_changed": not torch.equal(enc0, world_model.encoder.stats.weight)})

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
