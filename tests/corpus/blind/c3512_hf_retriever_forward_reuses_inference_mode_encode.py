import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class RetrievalConfig(PretrainedConfig):
    model_type = "dual-retrieval"

    def __init__(self, vocab_size=90, hidden_size=32, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class QueryEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.ff = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU())

    def forward(self, input_ids):
        return self.ff(self.embed(input_ids).mean(1))


class IntentRetriever(PreTrainedModel):
    config_class = RetrievalConfig

    def __init__(self, config):
        super().__init__(config)
        self.query_encoder = QueryEncoder(config)
        self.intent_head = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @torch.inference_mode()
    def encode(self, input_ids):
        """Embeddings for the vector index (also used to build the classifier input)."""
        return F.normalize(self.query_encoder(input_ids), dim=-1)

    def forward(self, input_ids, labels=None):
        logits = self.intent_head(self.encode(input_ids))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=32, seq=5):
    g = torch.Generator().manual_seed(26)
    rows = []
    for _ in range(n):
        label = int(torch.randint(0, 3, (1,), generator=g))
        rows.append({"input_ids": torch.randint(label * 30, label * 30 + 30, (seq,), generator=g), "label": label})
    return rows


def main():
    torch.manual_seed(0)
    model = IntentRetriever(RetrievalConfig(num_labels=3))
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=1, learning_rate=5e-3)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
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
