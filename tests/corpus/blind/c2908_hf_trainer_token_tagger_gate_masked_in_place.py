import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import TokenClassifierOutput


class TaggerConfig(PretrainedConfig):
    model_type = "gated-tagger"

    def __init__(self, vocab_size=30, hidden=16, num_labels=4, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden = vocab_size, hidden


class GatedHighway(nn.Module):
    """h + g * (f(h) - h), with the gate closed on padding positions."""

    def __init__(self, dim):
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.gate_proj = nn.Linear(dim, dim)

    def forward(self, h, attention_mask):
        gate = torch.sigmoid(self.gate_proj(h))
        gate.mul_(attention_mask.unsqueeze(-1).to(gate.dtype))
        return h + gate * (torch.tanh(self.transform(h)) - h)


class GatedTagger(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden, padding_idx=0)
        self.conv = nn.Conv1d(config.hidden, config.hidden, 3, padding=1)
        self.highways = nn.ModuleList([GatedHighway(config.hidden) for _ in range(2)])
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        h = self.embeddings(input_ids)
        h = F.gelu(self.conv(h.transpose(1, 2))).transpose(1, 2)
        for layer in self.highways:
            h = layer(h, attention_mask)
        logits = self.classifier(h)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


class NERData(Dataset):
    def __init__(self, n=24, seq=8):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 30, (n, seq), generator=g)
        lengths = torch.randint(4, seq + 1, (n,), generator=g)
        self.mask = (torch.arange(seq)[None] < lengths[:, None]).long()
        self.ids = self.ids * self.mask
        self.labels = torch.where(self.mask.bool(), self.ids % 4, torch.full_like(self.ids, -100))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "label_ids": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = GatedTagger(TaggerConfig())
    args = TrainingArguments(output_dir="/tmp/tagger_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=NERData())
    gate_before = model.highways[0].gate_proj.weight.detach().clone()
    trainer.train()
    return {"model": model}, {"gate_changed": not torch.equal(gate_before, model.highways[0].gate_proj.weight)}

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
