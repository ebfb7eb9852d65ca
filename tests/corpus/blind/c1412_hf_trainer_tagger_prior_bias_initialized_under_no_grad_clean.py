import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, TokenClassifierOutput, Trainer, TrainingArguments


class TaggerConfig(PretrainedConfig):
    model_type = "tiny-tagger"

    def __init__(self, vocab_size=50, hidden_size=16, num_labels=5, label_prior=None, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.label_prior = label_prior or [0.6, 0.1, 0.1, 0.1, 0.1]


class TokenTagger(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()
        with torch.no_grad():
            self.classifier.bias.copy_(torch.tensor(config.label_prior).log())

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=0.02)

    def forward(self, input_ids=None, labels=None):
        hidden, _ = self.rnn(self.embeddings(input_ids))
        logits = self.classifier(hidden)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=32, length=7):
    g = torch.Generator().manual_seed(13)
    rows = []
    for ids in torch.randint(0, 50, (n, length), generator=g):
        rows.append({"input_ids": ids, "label_ids": torch.where(ids < 30, 0, ids % 4 + 1)})
    return rows


def main():
    torch.manual_seed(0)
    model = TokenTagger(TaggerConfig())
    bias0 = model.classifier.bias.detach().clone()
    emb0 = model.embeddings.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_tagger", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    return ({"model": model},
            {"classifier_bias_changed": not torch.equal(bias0, model.classifier.bias),
             "embeddings_changed": not torch.equal(emb0, model.embeddings.weight)})

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
