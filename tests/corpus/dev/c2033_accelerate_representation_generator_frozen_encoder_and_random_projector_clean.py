import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class PretrainedEncoder(nn.Module):
    """Stands in for a self-supervised (MoCo v3) image encoder loaded from a checkpoint."""

    def __init__(self, d_in=20, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 32), nn.GELU(), nn.Linear(32, dim))

    def forward(self, x):
        return self.net(x)


class RepresentationDiffusion(nn.Module):
    """Denoises projected representations (RCG-style representation generator)."""

    def __init__(self, dim=8):
        super().__init__()
        self.t_embed = nn.Embedding(50, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 32), nn.SiLU(), nn.Linear(32, 32), nn.SiLU(), nn.Linear(32, dim))

    def forward(self, z_noisy, t):
        return self.mlp(z_noisy + self.t_embed(t))


def build_frozen_feature_pipeline(encoder, proj_dim=8):
    projector = nn.Sequential(nn.Linear(16, proj_dim), nn.LayerNorm(proj_dim))
    for module in (encoder, projector):
        module.eval()
        for p in module.parameters():
            p.requires_grad = False
    return projector


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    encoder = PretrainedEncoder()
    projector = build_frozen_feature_pipeline(encoder)
    rdm = RepresentationDiffusion()
    optimizer = torch.optim.AdamW(rdm.parameters(), lr=1e-3, weight_decay=0.01)
    images = torch.randn(32, 20)
    loader = DataLoader(TensorDataset(images), batch_size=8, shuffle=True)
    rdm, optimizer, loader = accelerator.prepare(rdm, optimizer, loader)
    alphas = torch.linspace(0.99, 0.1, 50)
    e0 = encoder.net[0].weight.detach().clone()
    r0 = rdm.mlp[0].weight.detach().clone()
    for (x,) in loader:
        with accelerator.accumulate(rdm):
            z = F.normalize(projector(encoder(x)), dim=-1) * 2.0
            t = torch.randint(0, 50, (x.size(0),))
            noise = torch.randn_like(z)
            a = alphas[t][:, None]
            loss = F.mse_loss(rdm(a.sqrt() * z + (1 - a).sqrt() * noise, t), noise)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    accelerator.backward(F.mse_loss(rdm(a.sqrt() * z + (1 - a).sqrt() * noise, t), noise))
    return ({"rdm": rdm, "encoder": encoder, "projector": projector},
            {"rdm_changed": not torch.equal(r0, rdm.mlp[0].weight),
             "encoder_unchanged": torch.equal(e0, encoder.net[0].weight)})

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
