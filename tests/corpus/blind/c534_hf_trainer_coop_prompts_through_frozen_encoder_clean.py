import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=100, dim=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, token_embeds):
        return self.mlp(token_embeds).mean(1)


class PromptConfig(PretrainedConfig):
    model_type = "coop"


class PromptLearner(PreTrainedModel):
    """CoOp-style: learnable context vectors prepended to frozen class-name embeddings."""

    config_class = PromptConfig

    def __init__(self, config, class_token_ids):
        super().__init__(config)
        self.text_encoder = FrozenTextEncoder(config.vocab_size, config.dim)
        self.image_proj = nn.Linear(config.image_dim, config.dim)
        self.ctx = nn.Parameter(0.02 * torch.randn(config.n_ctx, config.dim))
        self.register_buffer("class_token_ids", class_token_ids)
        self.text_encoder.requires_grad_(False)
        self.image_proj.requires_grad_(False)

    def class_embeddings(self):
        with torch.no_grad():
            name_embeds = self.text_encoder.token_embedding(self.class_token_ids)
        ctx = self.ctx.unsqueeze(0).expand(name_embeds.shape[0], -1, -1)
        return F.normalize(self.text_encoder(torch.cat([ctx, name_embeds], dim=1)), dim=-1)

    def forward(self, image_features, labels=None):
        img = F.normalize(self.image_proj(image_features), dim=-1)
        logits = 10.0 * img @ self.class_embeddings().t()
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class FewShotFeatures(Dataset):
    def __init__(self, n=40, image_dim=24, n_classes=4):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.arange(n_classes).repeat(n // n_classes)
        self.x = torch.randn(n_classes, image_dim, generator=g)[self.labels] + 0.3 * torch.randn(n, image_dim, generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"image_features": self.x[i], "label": int(self.labels[i])}


def main():
    torch.manual_seed(0)
    config = PromptConfig(vocab_size=100, dim=16, image_dim=24, n_ctx=4, num_labels=4)
    model = PromptLearner(config, class_token_ids=torch.tensor([[11, 12], [21, 22], [31, 32], [41, 42]]))
    args = TrainingArguments(output_dir="/tmp/coop-run", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=2e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=FewShotFeatures())
    ctx_before = model.ctx.detach().clone()
    enc_before = model.text_encoder.mlp[1].weight.detach().clone()
    trainer.train()
    optimized = [p for group in trainer.optimizer.param_groups for p in group["params"]]
    return ({"model": model},
            {"ctx_changed": not torch.equal(ctx_before, model.ctx),
             "encoder_unchanged": torch.equal(enc_before, model.text_encoder.mlp[1].weight),
             "only_ctx_optimized": len(optimized) == 1 and optimized[0] is model.ctx})

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
