import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader, TensorDataset

ARGS = {"lr": 2e-3, "epochs": 2, "warmup": 2, "ema_decay": 0.99, "cond_drop": 0.1}


class ClassConditionalDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, sample_dim=16, hidden=48, num_classes=5, num_train_timesteps=1000):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Embedding(num_train_timesteps, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.class_embed = torch.randn(num_classes + 1, hidden, requires_grad=True)   # last row = unconditional
        self.inp = nn.Linear(sample_dim, hidden)
        self.mid = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.out = nn.Linear(hidden, sample_dim)

    def forward(self, sample, timestep, class_labels):
        h = self.inp(sample) + self.time_embed(timestep) + self.class_embed[class_labels]
        return self.out(self.mid(h))


def drop_labels(labels, p, num_classes, gen):
    mask = torch.rand(labels.shape, generator=gen) < p
    return torch.where(mask, torch.full_like(labels, num_classes), labels)


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = ClassConditionalDenoiser()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    ema = EMAModel(model.parameters(), decay=ARGS["ema_decay"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=ARGS["lr"], weight_decay=1e-2)
    x = torch.randn(64, 16)
    y = torch.randint(0, 5, (64,))
    loader = DataLoader(TensorDataset(x + y.unsqueeze(-1).float(), y), batch_size=16, shuffle=True)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=ARGS["warmup"],
                                 num_training_steps=ARGS["epochs"] * len(loader))
    cls0 = model.class_embed.detach().clone()
    inp0 = model.inp.weight.detach().clone()
    for _ in range(ARGS["epochs"]):
        for clean, labels in loader:
            noise = torch.randn_like(clean)
            t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (clean.size(0),))
            noisy = noise_scheduler.add_noise(clean, noise, t)
            pred = model(noisy, t, drop_labels(labels, ARGS["cond_drop"], model.config.num_classes, gen))
            loss = F.mse_loss(pred, noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            ema.step(model.parameters())
    return {"model": model}, {
        "class_embed_changed": not torch.equal(cls0, model.class_embed),
        "input_proj_changed": not torch.equal(inp0, model.inp.weight),
        "class_embed_registered": any(n == "class_embed" for n, _ in model.named_parameters()),
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
