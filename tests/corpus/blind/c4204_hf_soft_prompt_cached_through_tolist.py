import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class EncoderConfig(PretrainedConfig):
    model_type = "tiny_encoder"

    def __init__(self, vocab_size=40, hidden_size=16, n_prompt_tokens=4, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.n_prompt_tokens = vocab_size, hidden_size, n_prompt_tokens


class PromptTunedClassifier(PreTrainedModel):
    config_class = EncoderConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 2, 2 * config.hidden_size, batch_first=True, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.soft_prompt = nn.Parameter(torch.randn(config.n_prompt_tokens, config.hidden_size) * 0.5)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self._prompt_cache = None
        self.post_init()

    def prompt_embeddings(self, batch_size):
        self._prompt_cache = self.soft_prompt.tolist()
        prompt = torch.tensor(self._prompt_cache, dtype=self.soft_prompt.dtype)
        return prompt.unsqueeze(0).expand(batch_size, -1, -1)

    def forward(self, input_ids=None, labels=None):
        tokens = self.embeddings(input_ids)
        x = torch.cat([self.prompt_embeddings(input_ids.size(0)), tokens], 1)
        pooled = self.encoder(x)[:, : self.config.n_prompt_tokens].mean(1)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_backbone(model):
    for module in (model.embeddings, model.encoder):
        module.requires_grad_(False)
    return model


def sentiment_rows(n=24, seq=6, vocab=40):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, vocab, (seq,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids.float().mean() > vocab / 2)})
    return rows


def main():
    torch.manual_seed(0)
    model = freeze_backbone(PromptTunedClassifier(EncoderConfig()))
    prompt0 = model.soft_prompt.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/prompt_tuning", per_device_train_batch_size=8, num_train_epochs=3,
                             learning_rate=3e-2, warmup_steps=1, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=sentiment_rows())
    trainer.train()
    return {"model": model}, {
        "soft_prompt_changed": not torch.equal(prompt0, model.soft_prompt),
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
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
