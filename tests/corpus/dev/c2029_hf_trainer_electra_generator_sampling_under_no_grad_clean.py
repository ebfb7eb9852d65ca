import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class ElectraConfig(PretrainedConfig):
    model_type = "tiny-electra"

    def __init__(self, vocab_size=48, gen_size=8, disc_size=16, mask_id=1, mask_prob=0.25, disc_weight=50.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.gen_size, self.disc_size = vocab_size, gen_size, disc_size
        self.mask_id, self.mask_prob, self.disc_weight = mask_id, mask_prob, disc_weight


class Encoder(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layer = nn.TransformerEncoderLayer(dim, nhead=2, dim_feedforward=2 * dim, batch_first=True, dropout=0.0)

    def forward(self, ids):
        return self.layer(self.embed(ids))


class ElectraForPreTraining(PreTrainedModel):
    config_class = ElectraConfig

    def __init__(self, config):
        super().__init__(config)
        self.generator = Encoder(config.vocab_size, config.gen_size)
        self.gen_head = nn.Linear(config.gen_size, config.vocab_size)
        self.discriminator = Encoder(config.vocab_size, config.disc_size)
        self.disc_head = nn.Linear(config.disc_size, 1)
        self.post_init()

    def mask_tokens(self, input_ids):
        mask = torch.rand(input_ids.shape) < self.config.mask_prob
        mask[:, 0] = True
        return input_ids.masked_fill(mask, self.config.mask_id), mask

    def sample_replacements(self, gen_logits):
        gumbel = -torch.log(-torch.log(torch.rand_like(gen_logits).clamp_min(1e-9)))
        return (gen_logits + gumbel).argmax(dim=-1)

    def forward(self, input_ids):
        masked_ids, mask = self.mask_tokens(input_ids)
        gen_logits = self.gen_head(self.generator(masked_ids))
        mlm_loss = F.cross_entropy(gen_logits[mask], input_ids[mask])
        with torch.no_grad():
            sampled = self.sample_replacements(gen_logits[mask])
            corrupted = input_ids.clone()
            corrupted[mask] = sampled
            is_replaced = (corrupted != input_ids).float()
        disc_logits = self.disc_head(self.discriminator(corrupted)).squeeze(-1)
        disc_loss = F.binary_cross_entropy_with_logits(disc_logits, is_replaced)
        return ModelOutput(loss=mlm_loss + self.config.disc_weight * disc_loss, logits=disc_logits)


def main():
    torch.manual_seed(0)
    ids = torch.randint(2, 48, (32, 10))
    data = [{"input_ids": ids[i]} for i in range(32)]
    model = ElectraForPreTraining(ElectraConfig())
    g0 = model.generator.embed.weight.detach().clone()
    d0 = model.disc_head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/electra", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=2e-3, warmup_steps=1, weight_decay=0.01, report_to="none")
    Trainer(model=model, args=args, train_dataset=data).train()
    model(ids[:8])["loss"].backward()
    return ({"model": model},
            {"generator_changed": not torch.equal(g0, model.generator.embed.weight),
             "discriminator_changed": not torch.equal(d0, model.disc_head.weight)})

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
