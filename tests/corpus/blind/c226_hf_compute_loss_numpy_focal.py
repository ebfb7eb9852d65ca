import numpy as np
import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import TokenClassifierOutput


class TaggerConfig(PretrainedConfig):
    model_type = "ner-tagger"

    def __init__(self, vocab_size=70, hidden_size=24, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size


class BiLSTMTagger(PreTrainedModel):
    config_class = TaggerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.lstm = nn.LSTM(config.hidden_size, config.hidden_size // 2, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids, attention_mask=None, labels=None):
        h, _ = self.lstm(self.embed(input_ids))
        return TokenClassifierOutput(logits=self.classifier(h))


def focal_loss_np(probs, labels, mask, gamma=2.0):
    """Focal loss on token probabilities; padding tokens are masked out."""
    pt = np.take_along_axis(probs, labels[..., None], axis=-1)[..., 0]
    per_token = -((1.0 - pt) ** gamma) * np.log(np.clip(pt, 1e-8, 1.0))
    return float((per_token * mask).sum() / max(mask.sum(), 1))


class FocalLossTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        probs = torch.softmax(outputs.logits, dim=-1)
        loss = focal_loss_np(probs.detach().cpu().numpy(), labels.cpu().numpy(),
                             inputs["attention_mask"].cpu().numpy())
        loss = torch.as_tensor(loss, device=outputs.logits.device)
        return (loss, outputs) if return_outputs else loss


def build_dataset(n=24, seq=10):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 70, (n, seq), generator=g)
    mask = torch.ones(n, seq, dtype=torch.long)
    ids[:, 8:], mask[:, 8:] = 0, 0
    tags = torch.where(ids % 7 == 0, ids % 5, torch.zeros_like(ids))
    return [{"input_ids": ids[i], "attention_mask": mask[i], "labels": tags[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = BiLSTMTagger(TaggerConfig())
    args = TrainingArguments(output_dir="ner", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=2e-3, report_to="none")
    FocalLossTrainer(model=model, args=args, train_dataset=build_dataset()).train()
    return {"model": model}

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
