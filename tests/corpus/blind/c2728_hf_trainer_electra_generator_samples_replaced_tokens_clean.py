import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class ElectraConfig(PretrainedConfig):
    model_type = "electra-tiny"

    def __init__(self, vocab_size=30, hidden=16, mask_id=1, disc_weight=10.0, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.mask_id, self.disc_weight = vocab_size, hidden, mask_id, disc_weight


class Encoder(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.mix = nn.GRU(hidden, hidden, batch_first=True)

    def forward(self, ids):
        return self.mix(self.embed(ids))[0]


def sample_from_softmax(logits):
    gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp_min(1e-9)))
    return (logits + gumbel).argmax(-1)


class ElectraForPreTraining(PreTrainedModel):
    config_class = ElectraConfig

    def __init__(self, config):
        super().__init__(config)
        self.generator = Encoder(config.vocab_size, config.hidden)
        self.gen_head = nn.Linear(config.hidden, config.vocab_size)
        self.discriminator = Encoder(config.vocab_size, config.hidden)
        self.disc_head = nn.Linear(config.hidden, 1)
        self.post_init()

    def forward(self, input_ids, mask_positions):
        masked = input_ids.masked_fill(mask_positions, self.config.mask_id)
        gen_logits = self.gen_head(self.generator(masked))
        mlm_loss = F.cross_entropy(gen_logits[mask_positions], input_ids[mask_positions])
        with torch.no_grad():
            sampled = sample_from_softmax(gen_logits.detach())
        corrupted = torch.where(mask_positions, sampled, input_ids)
        is_replaced = (corrupted != input_ids).float()
        disc_logits = self.disc_head(self.discriminator(corrupted)).squeeze(-1)
        disc_loss = F.binary_cross_entropy_with_logits(disc_logits, is_replaced)
        return ModelOutput(loss=mlm_loss + self.config.disc_weight * disc_loss, disc_loss=disc_loss.detach())


class Corpus(Dataset):
    def __init__(self, n=16, length=8):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(2, 30, (n, length), generator=g)
        self.mask = torch.rand(n, length, generator=g) < 0.3
        self.mask[:, 0] = True

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "mask_positions": self.mask[i]}


def main():
    torch.manual_seed(0)
    model = ElectraForPreTraining(ElectraConfig())
    gen_before = model.gen_head.weight.detach().clone()
    disc_before = model.disc_head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2728", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=Corpus()).train()
    facts = {"generator_changed": not torch.equal(gen_before, model.gen_head.weight),
             "discriminator_changed": not torch.equal(disc_before, model.disc_head.weight)}
    return {}, facts

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
