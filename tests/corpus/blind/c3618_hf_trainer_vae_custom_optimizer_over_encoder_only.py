import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class SharedVAEConfig(PretrainedConfig):
    model_type = "shared-vae"

    def __init__(self, n_genes=24, hidden=16, latent=4, kl_weight=0.1, **kwargs):
        self.n_genes = n_genes
        self.hidden = hidden
        self.latent = latent
        self.kl_weight = kl_weight
        super().__init__(**kwargs)


class Encoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc = nn.Linear(config.n_genes, config.hidden)
        self.mu = nn.Linear(config.hidden, config.latent)
        self.logvar = nn.Linear(config.hidden, config.latent)

    def forward(self, x):
        h = F.relu(self.fc(x))
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(config.latent, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.n_genes))

    def forward(self, z):
        return self.net(z)


class SharedVAE(PreTrainedModel):
    config_class = SharedVAEConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.post_init()

    def forward(self, expression):
        mu, logvar = self.encoder(expression)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = self.decoder(z)
        kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
        loss = F.mse_loss(recon, expression) + self.config.kl_weight * kl
        return ModelOutput(loss=loss, reconstruction=recon)


def make_cells(n=48, n_genes=24):
    g = torch.Generator().manual_seed(7)
    programs = torch.randn(3, n_genes, generator=g)
    return [{"expression": programs[i % 3] + 0.2 * torch.randn(n_genes, generator=g)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = SharedVAE(SharedVAEConfig())
    optimizer = torch.optim.AdamW(model.encoder.parameters(), lr=5e-3)
    args = TrainingArguments(output_dir="vae_out", per_device_train_batch_size=8, num_train_epochs=1, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=make_cells(), optimizers=(optimizer, None))
    dec0 = model.decoder.net[0].weight.detach().clone()
    enc0 = model.encoder.fc.weight.detach().clone()
    trainer.train()
    return {"model": model}, {
        "decoder_changed": not torch.equal(dec0, model.decoder.net[0].weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.fc.weight),
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
