import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class FiniteScalarQuantizer(nn.Module):
    """FSQ: bound each latent channel with tanh and round it to a small set of levels."""

    def __init__(self, levels=5):
        super().__init__()
        self.half = (levels - 1) / 2

    def forward(self, z):
        bounded = torch.tanh(z) * self.half
        quantized = torch.round(bounded)
        return quantized / self.half


class Encoder(nn.Module):
    def __init__(self, in_ch, width, latent_ch):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(in_ch, width, 3, 2, 1), nn.SiLU(), nn.Conv2d(width, latent_ch, 3, 1, 1))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, latent_ch, width, out_ch):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(latent_ch, width, 3, 1, 1), nn.SiLU(),
                                 nn.Upsample(scale_factor=2), nn.Conv2d(width, out_ch, 3, 1, 1))

    def forward(self, z):
        return self.net(z)


class FSQAutoencoder(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, width=16, latent_channels=4, levels=5):
        super().__init__()
        self.encoder = Encoder(in_channels, width, latent_channels)
        self.quantizer = FiniteScalarQuantizer(levels)
        self.decoder = Decoder(latent_channels, width, in_channels)

    def encode(self, x):
        return self.quantizer(self.encoder(x))

    def forward(self, x):
        return self.decoder(self.encode(x))


def make_loader(n=24, bs=6):
    g = torch.Generator().manual_seed(8)
    imgs = torch.rand(n, 3, 16, 16, generator=g) * 2 - 1
    return DataLoader(TensorDataset(imgs), batch_size=bs, shuffle=True)


def train(model, loader, optimizer, lr_scheduler, epochs=2):
    model.train()
    for epoch in range(epochs):
        for (imgs,) in loader:
            optimizer.zero_grad()
            recon = model(imgs)
            loss = F.mse_loss(recon, imgs) + 0.1 * F.l1_loss(recon, imgs)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()


def main():
    torch.manual_seed(0)
    model = FSQAutoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = make_loader()
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=8)
    enc0 = model.encoder.net[0].weight.detach().clone()
    dec0 = model.decoder.net[0].weight.detach().clone()
    train(model, loader, optimizer, lr_scheduler)
    return {"encoder": model.encoder, "decoder": model.decoder}, {
        "encoder_changed": not torch.equal(enc0, model.encoder.net[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder.net[0].weight),
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
