import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import ModelMixin, register_to_config
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantizeST(torch.autograd.Function):
    """Nearest-codebook lookup; the backward passes the decoder's gradient straight to the encoder output."""

    @staticmethod
    def forward(ctx, z, codebook):
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.size(1))
        idx = torch.cdist(flat, codebook).argmin(dim=1)
        q = codebook[idx].view(z.size(0), z.size(2), z.size(3), z.size(1)).permute(0, 3, 1, 2)
        ctx.mark_non_differentiable(idx)
        return q.contiguous(), idx

    @staticmethod
    def backward(ctx, grad_q, grad_idx):
        return grad_q, None


class TinyVQModel(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, latent_channels=4, num_vq_embeddings=16, beta=0.25):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(in_channels, 16, 4, stride=2, padding=1), nn.SiLU(),
                                     nn.Conv2d(16, latent_channels, 3, padding=1))
        self.codebook = nn.Embedding(num_vq_embeddings, latent_channels)
        self.decoder = nn.Sequential(nn.Conv2d(latent_channels, 16, 3, padding=1), nn.SiLU(),
                                     nn.ConvTranspose2d(16, in_channels, 4, stride=2, padding=1))

    def forward(self, x):
        z = self.encoder(x)
        q_st, idx = VectorQuantizeST.apply(z, self.codebook.weight.detach())
        q = self.codebook(idx).view(z.size(0), z.size(2), z.size(3), -1).permute(0, 3, 1, 2)
        vq_loss = F.mse_loss(q, z.detach()) + self.config.beta * F.mse_loss(z, q.detach())
        return self.decoder(q_st), vq_loss


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    images = torch.rand(16, 3, 8, 8)
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    model = TinyVQModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    enc0 = model.encoder[0].weight.detach().clone()
    code0 = model.codebook.weight.detach().clone()
    for epoch in range(2):
        for (x,) in loader:
            recon, vq_loss = model(x)
            loss = F.mse_loss(recon, x) + vq_loss
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    recon, vq_loss = model(images[:4])
    accelerator.backward(F.mse_loss(recon, images[:4]) + vq_loss)
    return ({"model": model},
            {"encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
             "codebook_changed": not torch.equal(code0, model.codebook.weight)})

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
