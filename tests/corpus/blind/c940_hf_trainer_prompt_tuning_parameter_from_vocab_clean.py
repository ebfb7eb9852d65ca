import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class NewsConfig(PretrainedConfig):
    model_type = "tiny-news"

    def __init__(self, vocab_size=60, hidden_size=24, num_heads=4, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_heads = vocab_size, hidden_size, num_heads


class PromptTunedEncoder(PreTrainedModel):
    config_class = NewsConfig

    def __init__(self, config, n_tokens=4):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.TransformerEncoderLayer(config.hidden_size, config.num_heads, 2 * config.hidden_size,
                                                  dropout=0.0, batch_first=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()
        self.soft_prompt = nn.Parameter(self.embeddings.weight[:n_tokens].detach().clone())

    def freeze_backbone(self):
        self.embeddings.requires_grad_(False)
        self.encoder.requires_grad_(False)

    def forward(self, input_ids=None, labels=None):
        h = self.embeddings(input_ids)
        h = torch.cat([self.soft_prompt.expand(h.shape[0], -1, -1), h], dim=1)
        logits = self.classifier(self.encoder(h)[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=48, seq_len=10, vocab=60):
    g = torch.Generator().manual_seed(3)
    rows = []
    for _ in range(n):
        ids = torch.randint(4, vocab, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "labels": int(ids[0]) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = PromptTunedEncoder(NewsConfig())
    model.freeze_backbone()
    prompt_before = model.soft_prompt.detach().clone()
    head_before = model.classifier.weight.detach().clone()
    emb_before = model.embeddings.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_prompt", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=3e-2, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    facts = {
        "prompt_changed": not torch.equal(prompt_before, model.soft_prompt),
        "classifier_changed": not torch.equal(head_before, model.classifier.weight),
        "embeddings_unchanged": torch.equal(emb_before, model.embeddings.weight),
        "prompt_is_leaf": model.soft_prompt.is_leaf,
    }
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
