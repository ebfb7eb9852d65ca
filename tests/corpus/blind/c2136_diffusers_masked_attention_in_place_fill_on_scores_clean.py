import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


class MaskedSelfAttention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.to_qkv = nn.Linear(dim, 3 * dim)
        self.to_out = nn.Linear(dim, dim)
        self.scale = dim ** -0.5

    def forward(self, x, key_padding_mask):
        q, k, v = self.to_qkv(x).chunk(3, dim=-1)
        scores = torch.matmul(q, k.transpose(-1, -2))
        scores.mul_(self.scale)
        scores.masked_fill_(key_padding_mask[:, None, :], float("-inf"))
        return self.to_out(scores.softmax(dim=-1) @ v)


class TokenDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, dim=16, n_tokens=6):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, n_tokens, dim))
        self.t_proj = nn.Linear(1, dim)
        self.attn = MaskedSelfAttention(dim)
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, t, key_padding_mask):
        h = x + self.pos + self.t_proj(t.float()[:, None, None] / 100)
        a = self.attn(self.norm(h), key_padding_mask)
        a.add_(h)
        return self.out(a)


def main():
    torch.manual_seed(0)
    model = TokenDenoiser()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = DDPMScheduler(num_train_timesteps=100)
    tokens = torch.randn(24, 6, 16)
    lengths = torch.randint(3, 7, (24,))
    pad = torch.arange(6)[None, :] >= lengths[:, None]
    q0 = model.attn.to_qkv.weight.detach().clone()
    for step in range(3):
        sl = slice(step * 8, (step + 1) * 8)
        noise = torch.randn(8, 6, 16)
        t = torch.randint(0, 100, (8,))
        pred = model(sched.add_noise(tokens[sl], noise, t), t, pad[sl])
        keep = (~pad[sl]).unsqueeze(-1).float()
        loss = ((pred - noise) ** 2 * keep).sum() / keep.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return ({"model": model}, {"qkv_changed": not torch.equal(q0, model.attn.to_qkv.weight)})

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
