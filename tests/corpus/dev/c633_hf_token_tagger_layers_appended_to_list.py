import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, TokenClassifierOutput, Trainer, TrainingArguments


class TaggerConfig(PretrainedConfig):
    model_type = "tiny-tagger"

    def __init__(self, vocab_size=40, hidden_size=16, num_layers=2, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers


class ConvTaggerForTokenClassification(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = self._build_layers(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @staticmethod
    def _build_layers(config):
        layers = []
        for _ in range(config.num_layers):
            layers.append(nn.Conv1d(config.hidden_size, config.hidden_size, kernel_size=3, padding=1))
        return layers

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        h = self.embeddings(input_ids).transpose(1, 2)
        for conv in self.layers:
            h = h + F.gelu(conv(h))
        logits = self.classifier(h.transpose(1, 2))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=48, seq_len=10, vocab=40):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, vocab, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "attention_mask": torch.ones(seq_len, dtype=torch.long), "label_ids": ids % 5})
    return rows


def main():
    torch.manual_seed(0)
    model = ConvTaggerForTokenClassification(TaggerConfig())
    args = TrainingArguments(output_dir="tmp_tagger", per_device_train_batch_size=16, max_steps=3, learning_rate=5e-3,
                             report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    conv0 = model.layers[0]
    before = conv0.weight.detach().clone()
    trainer.train()
    n_opt = sum(len(g["params"]) for g in trainer.optimizer.param_groups)
    return ({"model": model, "conv0_weight": conv0.weight},
            {"conv_changed": not torch.equal(before, conv0.weight), "optimizer_tensors": n_opt,
             "conv_in_state_dict": any(k.startswith("layers") for k in model.state_dict())})

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
