import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class ProteinConfig(PretrainedConfig):
    model_type = "tiny_protein_lm"

    def __init__(self, vocab_size=25, hidden=16, n_layers=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden, self.n_layers = vocab_size, hidden, n_layers


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, h):
        return h + self.ff(self.norm(h))


class ProteinClassifier(PreTrainedModel):
    config_class = ProteinConfig
    supports_gradient_checkpointing = True

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden)
        self.blocks = nn.ModuleList(Block(config.hidden) for _ in range(config.n_layers))
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.gradient_checkpointing = False

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.gradient_checkpointing = True

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids=None, labels=None):
        h = self.embeddings(input_ids)
        for block in self.blocks:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(block, h, use_reentrant=True)
            else:
                h = block(h)
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_sequences(n=32, length=12):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 25, (n, length), generator=g)
    y = ((ids < 5).sum(1) > 2).long()
    return [{"input_ids": ids[i], "label": int(y[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = ProteinClassifier(ProteinConfig(num_labels=2))
    model.get_input_embeddings().requires_grad_(False)
    model.gradient_checkpointing_enable()
    b0 = model.blocks[0].ff[0].weight.detach().clone()
    c0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/protein_cls", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=make_sequences()).train()
    return {"model": model}, {
        "blocks_changed": not torch.equal(b0, model.blocks[0].ff[0].weight),
        "classifier_changed": not torch.equal(c0, model.classifier.weight),
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
