import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, TokenClassifierOutput


class PerceiverIOConfig(PretrainedConfig):
    model_type = "tiny-perceiver-io"

    def __init__(self, in_dim=8, n_inputs=24, d_latent=32, n_latents=8, n_outputs=6, n_heads=4,
                 n_self_attn=2, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.in_dim, self.n_inputs, self.d_latent = in_dim, n_inputs, d_latent
        self.n_latents, self.n_outputs, self.n_heads, self.n_self_attn = n_latents, n_outputs, n_heads, n_self_attn


class CrossAttentionBlock(nn.Module):
    def __init__(self, d, n_heads):
        super().__init__()
        self.ln_q, self.ln_kv = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, n_heads, batch_first=True)
        self.mlp = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, q, kv):
        kv = self.ln_kv(kv)
        x = q + self.attn(self.ln_q(q), kv, kv, need_weights=False)[0]
        return x + self.mlp(x)


class PerceiverIOForQueries(PreTrainedModel):
    """Perceiver IO: inputs -> latent array (encode), latent self-attention (process), output queries -> outputs (decode)."""
    config_class = PerceiverIOConfig

    def __init__(self, config):
        super().__init__(config)
        d = config.d_latent
        self.input_proj = nn.Linear(config.in_dim, d)
        self.input_pos = nn.Parameter(torch.randn(1, config.n_inputs, d) * 0.02)
        self.latents = nn.Parameter(torch.randn(config.n_latents, d) * 0.02)
        self.encoder = CrossAttentionBlock(d, config.n_heads)
        self.process = nn.ModuleList(CrossAttentionBlock(d, config.n_heads) for _ in range(config.n_self_attn))
        self.output_queries = (torch.randn(config.n_outputs, d) * 0.02).requires_grad_()
        self.decoder = CrossAttentionBlock(d, config.n_heads)
        self.classifier = nn.Linear(d, config.num_labels)
        self.post_init()

    def forward(self, inputs, labels=None):
        B = inputs.shape[0]
        x = self.input_proj(inputs) + self.input_pos
        z = self.encoder(self.latents.unsqueeze(0).expand(B, -1, -1), x)
        for block in self.process:
            z = block(z, z)
        out = self.decoder(self.output_queries.unsqueeze(0).expand(B, -1, -1), z)
        logits = self.classifier(out)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        return TokenClassifierOutput(loss=loss, logits=logits)


class SensorSegments(Dataset):
    """Irregular multichannel sensor sets; the targets are the dominant channel of 6 fixed time segments."""

    def __init__(self, config, n=48):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, config.n_inputs, config.in_dim, generator=g)
        seg = self.x[..., :config.num_labels].reshape(n, config.n_outputs, -1, config.num_labels).mean(2)
        self.y = seg.argmax(-1)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"inputs": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    config = PerceiverIOConfig()
    model = PerceiverIOForQueries(config)
    q0 = model.output_queries.detach().clone()
    lat0 = model.latents.detach().clone()
    args = TrainingArguments(output_dir="/tmp/perceiver-io", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, weight_decay=0.01, warmup_ratio=0.1, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=SensorSegments(config))
    trainer.train()
    return {"model": model}, {
        "output_queries_changed": not torch.equal(q0, model.output_queries),
        "latents_changed": not torch.equal(lat0, model.latents),
        "queries_in_optimizer": any(p is model.output_queries for g in trainer.optimizer.param_groups for p in g["params"]),
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
