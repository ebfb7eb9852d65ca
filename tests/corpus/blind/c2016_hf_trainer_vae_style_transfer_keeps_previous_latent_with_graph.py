import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class SentenceVAEConfig(PretrainedConfig):
    model_type = "sentence-vae"

    def __init__(self, vocab_size=40, hidden_size=16, latent_size=8, n_attrs=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size, self.latent_size, self.n_attrs = vocab_size, hidden_size, latent_size, n_attrs


class SentenceVAE(PreTrainedModel):
    """Controllable text generation (Hu et al. style): VAE latent z plus a structured attribute code c."""

    config_class = SentenceVAEConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.to_stats = nn.Linear(config.hidden_size, 2 * config.latent_size)
        self.decoder = nn.GRU(config.hidden_size, config.latent_size + config.n_attrs, batch_first=True)
        self.out = nn.Linear(config.latent_size + config.n_attrs, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, attr):
        _, h = self.encoder(self.embed(input_ids))
        mu, logvar = self.to_stats(h[-1]).chunk(2, dim=-1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        code = F.one_hot(attr, self.config.n_attrs).float()
        dec, _ = self.decoder(self.embed(input_ids[:, :-1]), torch.cat([z, code], -1)[None])
        logits = self.out(dec)
        rec = F.cross_entropy(logits.reshape(-1, logits.size(-1)), input_ids[:, 1:].reshape(-1))
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1).mean()
        return ModelOutput(loss=rec + 0.1 * kl, z=z)


class IndependenceTrainer(Trainer):
    """Adds a penalty that keeps z stable across batches of the same attribute (the 'independence' constraint)."""

    def __init__(self, *args, lambda_z=0.1, **kwargs):
        super().__init__(*args, **kwargs)
        self.lambda_z, self.prev_z_mean = lambda_z, None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        z_mean = outputs["z"].mean(dim=0)
        loss = outputs["loss"]
        if self.prev_z_mean is not None:
            loss = loss + self.lambda_z * F.mse_loss(z_mean, self.prev_z_mean)
        self.prev_z_mean = z_mean
        return (loss, outputs) if return_outputs else loss


def main():
    torch.manual_seed(0)
    ids = torch.randint(0, 40, (24, 7))
    data = [{"input_ids": ids[i], "attr": int(ids[i, 0] % 2)} for i in range(24)]
    model = SentenceVAE(SentenceVAEConfig())
    e0 = model.to_stats.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/sent-vae", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none", remove_unused_columns=False)
    IndependenceTrainer(model=model, args=args, train_dataset=data).train()
    return {"model": model}, {"encoder_changed": not torch.equal(e0, model.to_stats.weight)}

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
