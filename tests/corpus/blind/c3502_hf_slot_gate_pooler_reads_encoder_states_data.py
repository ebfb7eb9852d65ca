import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class SlotConfig(PretrainedConfig):
    model_type = "slot-gate"

    def __init__(self, vocab_size=70, hidden_size=24, num_slots=3, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_slots = num_slots
        super().__init__(**kwargs)


class DialogueEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)

    def forward(self, input_ids):
        out, _ = self.rnn(self.embed(input_ids))
        return out


class SlotAttentionPooler(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.slot_queries = nn.Parameter(torch.randn(config.num_slots, config.hidden_size) * 0.1)
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, memory):
        attn = torch.softmax(torch.einsum("sh,bth->bst", self.slot_queries, memory), dim=-1)
        return torch.tanh(self.proj(torch.einsum("bst,bth->bsh", attn, memory))).flatten(1)


class SlotGateModel(PreTrainedModel):
    config_class = SlotConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = DialogueEncoder(config)
        self.pooler = SlotAttentionPooler(config)
        self.gate = nn.Linear(config.num_slots * config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        hidden = self.encoder(input_ids)
        memory = hidden.data
        logits = self.gate(self.pooler(memory))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=40, seq=7):
    g = torch.Generator().manual_seed(21)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 70, (seq,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids[0]) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = SlotGateModel(SlotConfig(num_labels=3))
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2, learning_rate=1e-2)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    emb0 = model.encoder.embed.weight.detach().clone()
    rnn0 = model.encoder.rnn.weight_hh_l0.detach().clone()
    pool0 = model.pooler.proj.weight.detach().clone()
    trainer.train()
    return {"model": model}, {
        "embeddings_changed": not torch.equal(emb0, model.encoder.embed.weight),
        "rnn_changed": not torch.equal(rnn0, model.encoder.rnn.weight_hh_l0),
        "pooler_changed": not torch.equal(pool0, model.pooler.proj.weight),
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
