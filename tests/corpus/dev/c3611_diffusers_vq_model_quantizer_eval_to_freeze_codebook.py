import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class EMAVectorQuantizer(nn.Module):
    def __init__(self, n_codes=16, dim=8, decay=0.9):
        super().__init__()
        self.decay = decay
        self.register_buffer("embed", torch.randn(n_codes, dim))

    def forward(self, z):
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        idx = torch.cdist(flat, self.embed).argmin(1)
        if not self.training:
            with torch.no_grad():
                q = self.embed[idx].view(z.shape[0], z.shape[2], z.shape[3], -1).permute(0, 3, 1, 2)
            return q, z.new_zeros(())
        q = self.embed[idx].view(z.shape[0], z.shape[2], z.shape[3], -1).permute(0, 3, 1, 2)
        commit = F.mse_loss(z, q.detach())
        with torch.no_grad():
            onehot = F.one_hot(idx, self.embed.shape[0]).float()
            counts = onehot.sum(0).clamp(min=1).unsqueeze(1)
            self.embed.mul_(self.decay).add_((1 - self.decay) * (onehot.t() @ flat) / counts)
        return z + (q - z).detach(), commit


class TinyVQModel(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, latent_channels=8, num_vq_embeddings=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(in_channels, 16, 4, 2, 1), nn.SiLU(), nn.Conv2d(16, latent_channels, 1))
        self.quantize = EMAVectorQuantizer(num_vq_embeddings, latent_channels)
        self.decoder = nn.Sequential(nn.ConvTranspose2d(latent_channels, 16, 4, 2, 1), nn.SiLU(), nn.Conv2d(16, in_channels, 3, 1, 1))

    def forward(self, x):
        q, commit = self.quantize(self.encoder(x))
        return self.decoder(q), commit


def adapt_encoder(vq_model, loader, steps=4):
    """Re-fit the encoder to a new domain with the pretrained decoder and codebook kept fixed."""
    vq_model.decoder.requires_grad_(False)
    vq_model.quantize.eval()
    optimizer = torch.optim.AdamW(vq_model.encoder.parameters(), lr=1e-3)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer, num_warmup_steps=0, num_training_steps=steps)
    for step, (x,) in enumerate(loader):
        recon, commit = vq_model(x)
        loss = F.mse_loss(recon, x) + 0.25 * commit
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
        if step + 1 >= steps:
            break


def main():
    torch.manual_seed(0)
    vq_model = TinyVQModel()
    images = torch.tanh(torch.randn(16, 3, 8, 8))
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    adapt_encoder(vq_model, loader)
    return {"encoder": vq_model.encoder}

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
