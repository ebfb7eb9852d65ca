import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class IntentConfig(PretrainedConfig):
    model_type = "intent-encoder"

    def __init__(self, vocab_size=70, hidden_size=20, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class IntentModel(PreTrainedModel):
    config_class = IntentConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.GRU(config.hidden_size, config.hidden_size, batch_first=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None):
        _, h_n = self.encoder(self.embeddings(input_ids))
        return SequenceClassifierOutput(logits=self.classifier(h_n[-1]))


class WeightedLossTrainer(Trainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_history = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        with torch.no_grad():
            counts = torch.bincount(labels, minlength=self.model.config.num_labels).float()
            weights = counts.sum() / (counts.clamp(min=1) * counts.numel())
        loss = F.cross_entropy(outputs.logits, labels, weight=weights)
        self.loss_history.append(loss.item())
        return (loss, outputs) if return_outputs else loss


def make_dataset(n=32, seq_len=6):
    g = torch.Generator().manual_seed(9)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 70, (seq_len,), generator=g)
        rows.append({"input_ids": ids, "label": 0 if int(ids[0]) < 40 else int(ids[1]) % 4})
    return rows


def main():
    torch.manual_seed(0)
    model = IntentModel(IntentConfig())
    args = TrainingArguments(output_dir="tmp_weighted", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    trainer = WeightedLossTrainer(model=model, args=args, train_dataset=make_dataset())
    enc0 = model.encoder.weight_ih_l0.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    trainer.train()
    facts = {
        "encoder_changed": not torch.equal(enc0, model.encoder.weight_ih_l0),
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
        "logged_losses": len(trainer.loss_history),
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
