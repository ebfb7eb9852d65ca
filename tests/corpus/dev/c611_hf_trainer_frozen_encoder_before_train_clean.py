import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class ProbeConfig(PretrainedConfig):
    model_type = "tiny-probe"

    def __init__(self, vocab_size=60, hidden_size=16, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyEncoderForClassification(PreTrainedModel):
    config_class = ProbeConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.encoder = nn.Sequential(nn.Linear(config.hidden_size, 32), nn.GELU(), nn.Linear(32, config.hidden_size))
        self.pre_classifier = nn.Linear(config.hidden_size, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        hidden = self.encoder(self.embeddings(input_ids))
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        logits = self.classifier(torch.tanh(self.pre_classifier(pooled)))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_backbone(model):
    model.embeddings.requires_grad_(False)
    for p in model.encoder.parameters():
        p.requires_grad = False
    return model


def make_dataset(n=48, seq_len=8, vocab=60):
    g = torch.Generator().manual_seed(1)
    rows = []
    for _ in range(n):
        ids = torch.randint(1, vocab, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "attention_mask": torch.ones(seq_len, dtype=torch.long), "label": int(ids[:2].sum() % 3)})
    return rows


def main():
    model = freeze_backbone(TinyEncoderForClassification(ProbeConfig()))
    args = TrainingArguments(output_dir="tmp_probe", per_device_train_batch_size=16, max_steps=3, learning_rate=1e-3,
                             weight_decay=0.01, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    enc_before = model.encoder[0].weight.detach().clone()
    head_before = model.classifier.weight.detach().clone()
    pre_before = model.pre_classifier.weight.detach().clone()
    trainer.train()
    n_opt = sum(len(g["params"]) for g in trainer.optimizer.param_groups)
    return {"model": model}, {"encoder_changed": not torch.equal(enc_before, model.encoder[0].weight),
                              "classifier_changed": not torch.equal(head_before, model.classifier.weight),
                              "pre_classifier_changed": not torch.equal(pre_before, model.pre_classifier.weight),
                              "optimizer_tensors": n_opt}

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
