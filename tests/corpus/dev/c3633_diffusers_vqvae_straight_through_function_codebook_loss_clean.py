import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.utils.data import DataLoader, TensorDataset


class VectorQuantization(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, codebook):
        with torch.no_grad():
            flat = inputs.reshape(-1, codebook.shape[1])
            dist = torch.addmm(torch.sum(codebook ** 2, dim=1) + torch.sum(flat ** 2, dim=1, keepdim=True),
                               flat, codebook.t(), alpha=-2.0, beta=1.0)
            return dist.argmin(dim=1).view(*inputs.shape[:-1])

    @staticmethod
    def backward(ctx, grad_output):
        raise RuntimeError("VectorQuantization is not differentiable; use VectorQuantizationStraightThrough")


class VectorQuantizationStraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, codebook):
        indices = VectorQuantization.apply(inputs, codebook).reshape(-1)
        ctx.save_for_backward(indices, codebook)
        ctx.mark_non_differentiable(indices)
        codes = torch.index_select(codebook, 0, indices).view_as(inputs)
        return codes, indices

    @staticmethod
    def backward(ctx, grad_output, grad_indices):
        grad_inputs = grad_codebook = None
        indices, codebook = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            grad_inputs = grad_output.clone()
        if ctx.needs_input_grad[1]:
            grad_codebook = torch.zeros_like(codebook)
            grad_codebook.index_add_(0, indices, grad_output.reshape(-1, codebook.shape[1]))
        return grad_inputs, grad_codebook


class VQEmbedding(nn.Module):
    def __init__(self, k=16, d=8):
        super().__init__()
        self.embedding = nn.Embedding(k, d)
        self.embedding.weight.data.uniform_(-1.0 / k, 1.0 / k)

    def straight_through(self, z_e):
        z = z_e.permute(0, 2, 3, 1).contiguous()
        z_q_st, indices = VectorQuantizationStraightThrough.apply(z, self.embedding.weight.detach())
        z_q_bar = torch.index_select(self.embedding.weight, 0, indices).view_as(z)
        return z_q_st.permute(0, 3, 1, 2), z_q_bar.permute(0, 3, 1, 2)


class VQVAE(ModelMixin):
    @register_to_config
    def __init__(self, in_channels=3, dim=8, num_codes=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(in_channels, 16, 4, 2, 1), nn.ReLU(), nn.Conv2d(16, dim, 1))
        self.codebook = VQEmbedding(num_codes, dim)
        self.decoder = nn.Sequential(nn.ConvTranspose2d(dim, 16, 4, 2, 1), nn.ReLU(), nn.Conv2d(16, in_channels, 3, 1, 1))

    def forward(self, x):
        z_e = self.encoder(x)
        z_q_st, z_q_bar = self.codebook.straight_through(z_e)
        return self.decoder(z_q_st), z_e, z_q_bar


def main():
    torch.manual_seed(0)
    model = VQVAE()
    images = torch.tanh(torch.randn(16, 3, 8, 8))
    loader = DataLoader(TensorDataset(images), batch_size=4, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    code0 = model.codebook.embedding.weight.detach().clone()
    enc0 = model.encoder[0].weight.detach().clone()
    for (x,) in loader:
        x_tilde, z_e, z_q = model(x)
        loss_recons = F.mse_loss(x_tilde, x)
        loss_vq = F.mse_loss(z_q, z_e.detach())
        loss_commit = F.mse_loss(z_e, z_q.detach())
        optimizer.zero_grad()
        (loss_recons + loss_vq + 0.25 * loss_commit).backward()
        optimizer.step()
    return {"model": model}, {
        "codebook_changed": not torch.equal(code0, model.codebook.embedding.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
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
