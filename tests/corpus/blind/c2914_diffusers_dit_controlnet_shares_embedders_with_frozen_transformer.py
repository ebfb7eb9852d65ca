import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config


class PatchEmbed(nn.Module):
    def __init__(self, channels, dim, patch=2):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class TimestepEmbedder(nn.Module):
    def __init__(self, num_steps, dim):
        super().__init__()
        self.table = nn.Embedding(num_steps, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t):
        return self.mlp(self.table(t))


class DiTBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.ada = nn.Linear(dim, 2 * dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x, c):
        shift, scale = self.ada(c).unsqueeze(1).chunk(2, dim=-1)
        return x + self.mlp(self.norm(x) * (1 + scale) + shift)


class TinyDiT(ModelMixin):
    @register_to_config
    def __init__(self, channels=4, dim=16, depth=2, patch=2, sample_size=8, num_train_timesteps=100):
        super().__init__()
        self.x_embedder = PatchEmbed(channels, dim, patch)
        self.t_embedder = TimestepEmbedder(num_train_timesteps, dim)
        self.blocks = nn.ModuleList([DiTBlock(dim) for _ in range(depth)])
        self.final = nn.Linear(dim, channels * patch * patch)

    def forward(self, sample, timesteps, control=None):
        b, c, h, w = sample.shape
        p = self.config.patch
        x, t = self.x_embedder(sample), self.t_embedder(timesteps)
        for i, block in enumerate(self.blocks):
            x = block(x, t)
            if control is not None:
                x = x + control[i]
        x = self.final(x).view(b, h // p, w // p, c, p, p)
        return x.permute(0, 3, 1, 4, 2, 5).reshape(b, c, h, w)


class DiTControlNet(ModelMixin):
    def __init__(self, dim=16, depth=2, cond_channels=1, patch=2):
        super().__init__()
        self.cond_embedder = PatchEmbed(cond_channels, dim, patch)
        self.control_blocks = nn.ModuleList([DiTBlock(dim) for _ in range(depth)])
        self.out_projs = nn.ModuleList([nn.Linear(dim, dim) for _ in range(depth)])
        for proj in self.out_projs:
            nn.init.zeros_(proj.weight)
            nn.init.zeros_(proj.bias)

    @classmethod
    def from_transformer(cls, transformer):
        controlnet = cls(dim=transformer.config.dim, depth=transformer.config.depth)
        controlnet.x_embedder = transformer.x_embedder
        controlnet.t_embedder = transformer.t_embedder
        controlnet.control_blocks.load_state_dict(transformer.blocks.state_dict())
        return controlnet

    def forward(self, sample, timesteps, cond):
        x = self.x_embedder(sample) + self.cond_embedder(cond)
        t = self.t_embedder(timesteps)
        residuals = []
        for block, proj in zip(self.control_blocks, self.out_projs):
            x = block(x, t)
            residuals.append(proj(x))
        return residuals


def main():
    set_seed(0)
    accelerator = Accelerator()
    transformer = TinyDiT()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    controlnet = DiTControlNet.from_transformer(transformer)
    transformer.requires_grad_(False)
    controlnet.train()
    optimizer = torch.optim.AdamW(controlnet.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    latents_all = torch.randn(12, 4, 8, 8, generator=g)
    cond_all = latents_all[:, :1].abs()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(latents_all, cond_all), batch_size=4)
    controlnet, optimizer, loader = accelerator.prepare(controlnet, optimizer, loader)
    emb_before = controlnet.x_embedder.proj.weight.detach().clone()
    for epoch in range(2):
        for latents, cond in loader:
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],))
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
            pred = transformer(noisy, timesteps, control=controlnet(noisy, timesteps, cond))
            loss = F.mse_loss(pred, noise)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
    facts = {"controlnet_embedder_changed": not torch.equal(emb_before, controlnet.x_embedder.proj.weight),
             "embedder_shared_with_transformer": controlnet.x_embedder is transformer.x_embedder}
    return {"controlnet": controlnet}, facts

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
