import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import TokenClassifierOutput


class TaggerConfig(PretrainedConfig):
    model_type = "tiny-tagger"

    def __init__(self, vocab_size=40, hidden_size=24, num_layers=2, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class TinyTagger(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        d = config.hidden_size
        self.embeddings = nn.Embedding(config.vocab_size, d)
        self.layers = nn.ModuleList(
            [nn.TransformerEncoderLayer(d, 2, 2 * d, dropout=0.0, batch_first=True) for _ in range(config.num_layers)])
        self.classifier = nn.Linear(d, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, labels=None):
        h = self.embeddings(input_ids)
        pad = attention_mask == 0 if attention_mask is not None else None
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=pad)
        return TokenClassifierOutput(logits=self.classifier(h))


def freeze_lower_layers(model, n_trainable=1):
    model.embeddings.requires_grad_(False)
    for layer in model.layers[:-n_trainable]:
        layer.requires_grad_(False)


class TaggingTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.logits
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)
        self.log({"tag_loss": loss.detach().item()})
        return (loss, outputs) if return_outputs else loss


def _module_of(name):
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "layers" else parts[0]


class GradProbe(TrainerCallback):
    def __init__(self):
        self.with_grad = set()

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        for n, p in model.named_parameters():
            if p.grad is not None and p.grad.abs().sum() > 0:
                self.with_grad.add(_module_of(n))


def build_dataset(n=24, seq=8):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 40, (n, seq), generator=g)
    labels = ids % 5
    labels[:, -2:] = -100
    mask = torch.ones(n, seq, dtype=torch.long)
    return [{"input_ids": ids[i], "attention_mask": mask[i], "labels": labels[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = TinyTagger(TaggerConfig())
    freeze_lower_layers(model)
    top_before = model.layers[-1].linear1.weight.detach().clone()
    emb_before = model.embeddings.weight.detach().clone()
    probe = GradProbe()
    args = TrainingArguments(output_dir="tagger", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=3e-3, report_to="none")
    trainer = TaggingTrainer(model=model, args=args, train_dataset=build_dataset(), callbacks=[probe])
    trainer.train()
    facts = {"top_layer_changed": not torch.equal(top_before, model.layers[-1].linear1.weight.detach()),
             "embeddings_frozen": torch.equal(emb_before, model.embeddings.weight.detach()),
             "modules_with_grad": sorted(probe.with_grad)}
    return {"model": model}, facts

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
