import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class VAEConfig(PretrainedConfig):
    model_type = "tabular-vae"

    def __init__(self, in_dim=24, hidden=64, latent=8, logvar_range=4.0, beta=0.5, **kw):
        super().__init__(**kw)
        self.in_dim, self.hidden, self.latent = in_dim, hidden, latent
        self.logvar_range, self.beta = logvar_range, beta


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cfg.in_dim, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 2 * cfg.latent))
        self.latent, self.logvar_range = cfg.latent, cfg.logvar_range

    def forward(self, x):
        stats = torch.tanh(self.net(x))
        mu, logvar = stats[:, : self.latent], stats[:, self.latent:]
        logvar.mul_(self.logvar_range)              # bound log-variance to [-range, range]
        return mu * 3.0, logvar


class BetaVAE(PreTrainedModel):
    config_class = VAEConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = Encoder(config)
        self.decoder = nn.Sequential(nn.Linear(config.latent, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.in_dim))
        self.post_init()

    def forward(self, x):
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return {"recon": self.decoder(z), "mu": mu, "logvar": logvar}


class VAETrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = model(**inputs)
        recon = F.mse_loss(out["recon"], inputs["x"], reduction="sum") / inputs["x"].size(0)
        kl = -0.5 * torch.mean(torch.sum(1 + out["logvar"] - out["mu"] ** 2 - out["logvar"].exp(), dim=1))
        loss = recon + model.config.beta * kl
        return (loss, out) if return_outputs else loss


def make_dataset(n=64, d=24):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(n, 3, generator=g)
    x = z @ torch.randn(3, d, generator=g) + 0.1 * torch.randn(n, d, generator=g)
    return [{"x": x[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = BetaVAE(VAEConfig())
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    VAETrainer(model=model, args=args, train_dataset=make_dataset()).train()
    return {"model": model}

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
