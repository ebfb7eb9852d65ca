import math

import numpy as np
import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class TicketConfig(PretrainedConfig):
    model_type = "ticket-encoder"

    def __init__(self, vocab_size=80, hidden_size=24, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TicketClassifier(PreTrainedModel):
    config_class = TicketConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU(),
                                     nn.LayerNorm(config.hidden_size))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        pooled = self.encoder(self.embeddings(input_ids)).mean(1)
        return SequenceClassifierOutput(logits=self.classifier(pooled))


def focal_loss_np(probs, labels, gamma=2.0):
    p_t = probs[np.arange(len(labels)), labels]
    return float(np.mean(-((1.0 - p_t) ** gamma) * np.log(p_t + 1e-8)))


class FocalTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        probs = torch.softmax(outputs.logits, dim=-1)
        value = focal_loss_np(probs.detach().cpu().numpy(), labels.cpu().numpy())
        loss = torch.tensor(value, requires_grad=True)
        return (loss, outputs) if return_outputs else loss


def make_dataset(n=48, seq_len=7):
    g = torch.Generator().manual_seed(5)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 80, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "label": int(ids[0]) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = TicketClassifier(TicketConfig())
    args = TrainingArguments(output_dir="tmp_focal", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    trainer = FocalTrainer(model=model, args=args, train_dataset=make_dataset())
    head0 = model.classifier.weight.detach().clone()
    enc0 = model.encoder[0].weight.detach().clone()
    result = trainer.train()
    facts = {
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "train_loss_finite": math.isfinite(result.training_loss),
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
