import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel


class EGNNLayer(nn.Module):
    """E(n)-equivariant message passing on atom coordinates (predicts per-atom noise on positions)."""

    def __init__(self, hidden):
        super().__init__()
        self.edge_mlp = nn.Sequential(nn.Linear(2 * hidden + 1, hidden), nn.SiLU())
        self.coord_mlp = nn.Linear(hidden, 1)
        self.node_mlp = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU())

    def forward(self, h, x):
        diff = x.unsqueeze(2) - x.unsqueeze(1)
        d2 = diff.pow(2).sum(-1, keepdim=True)
        n = h.size(1)
        m = self.edge_mlp(torch.cat([h.unsqueeze(2).expand(-1, -1, n, -1), h.unsqueeze(1).expand(-1, n, -1, -1), d2], -1))
        x = x + (diff * self.coord_mlp(m)).mean(2)
        h = h + self.node_mlp(torch.cat([h, m.sum(2)], -1))
        return h, x


class ConformerDenoiser(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, n_atom_types=5, hidden=16, num_layers=2):
        super().__init__()
        self.atom_embed = nn.Embedding(n_atom_types, hidden)
        self.time_embed = nn.Embedding(1000, hidden)
        self.layer_in = EGNNLayer(hidden)
        self.layer_out = EGNNLayer(hidden)
        self._blocks = [self.layer_in, self.layer_out]

    def forward(self, noisy_pos, atom_types, timesteps):
        h = self.atom_embed(atom_types) + self.time_embed(timesteps).unsqueeze(1)
        x = noisy_pos
        for block in self._blocks:
            h, x = block(h, x)
        return x - noisy_pos


def main():
    torch.manual_seed(0)
    model = ConformerDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    lr_sched = get_scheduler("constant", optimizer)
    ema = EMAModel(model.parameters(), decay=0.99)
    g = torch.Generator().manual_seed(1)
    pos = torch.randn(8, 6, 3, generator=g)
    types = torch.randint(0, 5, (8, 6), generator=g)
    e0 = model.layer_in.edge_mlp[0].weight.detach().clone()
    for step in range(5):
        noise = torch.randn(pos.shape, generator=g)
        t = torch.randint(0, 1000, (8,), generator=g)
        loss = F.mse_loss(model(scheduler.add_noise(pos, noise, t), types, t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
        ema.step(model.parameters())
    return {"model": model}, {
        "blocks_changed": not torch.equal(e0, model.layer_in.edge_mlp[0].weight),
        "n_trainable_tensors": sum(1 for _ in model.parameters()),
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
