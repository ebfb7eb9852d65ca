import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class NLIConfig(PretrainedConfig):
    model_type = "tiny-nli"

    def __init__(self, vocab_size=64, hidden_size=24, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyNLIModel(PreTrainedModel):
    config_class = NLIConfig

    def __init__(self, config):
        super().__init__(config)
        h = config.hidden_size
        self.embeddings = nn.Embedding(config.vocab_size, h)
        self.attn = nn.MultiheadAttention(h, 4, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(h, 2 * h), nn.GELU(), nn.Linear(2 * h, h))
        self.norm = nn.LayerNorm(h)
        self.classifier = nn.Linear(h, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        x = self.embeddings(input_ids)
        x = self.norm(x + self.attn(x, x, x, need_weights=False)[0])
        x = self.norm(x + self.ffn(x))
        logits = self.classifier(x.mean(1))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def apply_bitfit(model, head="classifier"):
    for name, param in model.named_parameters():
        param.requires_grad = name.endswith("bias") or name.startswith(head)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_dataset(n=40):
    g = torch.Generator().manual_seed(15)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 64, (10,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids[0] > ids[5]) + int(ids[1] > 40)})
    return rows


def main():
    torch.manual_seed(0)
    model = TinyNLIModel(NLIConfig())
    n_trainable = apply_bitfit(model)
    ffn_bias0 = model.ffn[0].bias.detach().clone()
    ffn_w0 = model.ffn[0].weight.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_bitfit", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    facts = {"ffn_bias_changed": not torch.equal(ffn_bias0, model.ffn[0].bias),
             "ffn_weight_changed": not torch.equal(ffn_w0, model.ffn[0].weight),
             "classifier_changed": not torch.equal(head0, model.classifier.weight),
             "trainable_fraction_below_half": n_trainable < 0.5 * sum(p.numel() for p in model.parameters())}
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
