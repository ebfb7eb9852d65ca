import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset


class ClassCondDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, dim=8, n_classes=3, hidden=32):
        super().__init__()
        self.null_class = n_classes
        self.class_emb = nn.Embedding(n_classes + 1, hidden)
        self.time_mlp = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.net = nn.Sequential(nn.Linear(dim + hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x, t, y):
        h = self.class_emb(y) + self.time_mlp(t.float()[:, None] / 1000.0)
        return self.net(torch.cat([x, h], dim=-1))


def drop_labels(y, null_class, p=0.2):
    keep = torch.rand(y.shape) >= p
    return torch.where(keep, y, torch.full_like(y, null_class))


@torch.no_grad()
def guided_eps(model, x, t, y, scale=3.0):
    eps_c = model(x, t, y)
    eps_u = model(x, t, torch.full_like(y, model.null_class))
    return eps_u + scale * (eps_c - eps_u)


def main():
    torch.manual_seed(0)
    y = torch.arange(60) % 3
    x0 = torch.randn(60, 8) * 0.3 + F.one_hot(y, 8).float() * 2.0
    loader = DataLoader(TensorDataset(x0, y), batch_size=12, shuffle=True)
    model = ClassCondDenoiser()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer)
    ema = EMAModel(model.parameters(), decay=0.99)
    net0, emb0 = model.net[0].weight.detach().clone(), model.class_emb.weight.detach().clone()
    for epoch in range(3):
        for xb, yb in loader:
            noise = torch.randn_like(xb)
            t = torch.randint(0, 1000, (xb.shape[0],))
            noisy = noise_scheduler.add_noise(xb, noise, t)
            pred = model(noisy, t, drop_labels(yb, model.null_class))
            loss = F.mse_loss(pred, noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            ema.step(model.parameters())
    eps = guided_eps(model, torch.randn(6, 8), torch.full((6,), 500), torch.arange(6) % 3)
    return {"model": model}, {
        "denoiser_changed": not torch.equal(net0, model.net[0].weight),
        "class_embedding_changed": not torch.equal(emb0, model.class_emb.weight),
        "ema_tracks_model": not torch.equal(ema.shadow_params[0], net0) and bool(torch.isfinite(eps).all()),
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
