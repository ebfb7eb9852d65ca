import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class NewsConfig(PretrainedConfig):
    model_type = "news-cnn"

    def __init__(self, vocab_size=80, hidden_size=16, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class NewsClassifier(PreTrainedModel):
    config_class = NewsConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.conv = nn.Conv1d(config.hidden_size, config.hidden_size, 3, padding=1)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids=None, inputs_embeds=None, labels=None):
        if inputs_embeds is None:
            inputs_embeds = self.embeddings(input_ids)
        h = F.relu(self.conv(inputs_embeds.transpose(1, 2))).max(dim=-1).values
        logits = self.classifier(h)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class FGMTrainer(Trainer):
    """Fast-gradient adversarial training on the input embeddings (FGM)."""

    def __init__(self, *args, epsilon=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.epsilon = epsilon

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        embeds = model.get_input_embeddings()(inputs["input_ids"])
        outputs = model(inputs_embeds=embeds, labels=inputs["labels"])
        outputs.loss.backward(retain_graph=True)
        grad = embeds.grad
        delta = self.epsilon * grad / (grad.norm(dim=-1, keepdim=True) + 1e-8)
        adv = model(inputs_embeds=embeds + delta.detach(), labels=inputs["labels"])
        loss = outputs.loss + adv.loss
        return (loss, outputs) if return_outputs else loss


def make_dataset(n=32, length=12):
    g = torch.Generator().manual_seed(67)
    ids = torch.randint(0, 80, (n, length), generator=g)
    return [{"input_ids": ids[i], "labels": int(ids[i, 0] % 4)} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = NewsClassifier(NewsConfig())
    args = TrainingArguments(output_dir="tmp_fgm", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    FGMTrainer(model=model, args=args, train_dataset=make_dataset()).train()
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
