import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyBertConfig(PretrainedConfig):
    model_type = "tiny-bert"

    def __init__(self, vocab_size=50, hidden_size=16, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class TinyBertForSequenceClassification(PreTrainedModel):
    config_class = TinyBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.encoder = nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.0, batch_first=True)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, labels=None):
        if inputs_embeds is None:
            inputs_embeds = self.embeddings(input_ids)
        h = self.encoder(inputs_embeds, src_key_padding_mask=attention_mask == 0)
        pooled = (h * attention_mask[..., None]).sum(1) / attention_mask.sum(1, keepdim=True)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class FlagTrainer(Trainer):
    """FLAG: free adversarial augmentation on the input embeddings (ascent steps on a perturbation)."""

    def __init__(self, *args, flag_steps=3, flag_step_size=1e-3, **kwargs):
        super().__init__(*args, **kwargs)
        self.flag_steps, self.flag_step_size = flag_steps, flag_step_size

    def training_step(self, model, inputs, num_items_in_batch=None):
        model.train()
        inputs = self._prepare_inputs(inputs)
        ids, mask, labels = inputs["input_ids"], inputs["attention_mask"], inputs["labels"]
        shape = (*ids.shape, model.config.hidden_size)
        perturb = torch.empty(shape).uniform_(-self.flag_step_size, self.flag_step_size).requires_grad_() * mask[..., None]
        for _ in range(self.flag_steps):
            embeds = model.embeddings(ids) + perturb
            loss = model(inputs_embeds=embeds, attention_mask=mask, labels=labels).loss / self.flag_steps
            loss.backward()
            perturb_data = perturb.detach() + self.flag_step_size * torch.sign(perturb.grad.detach())
            perturb.data = perturb_data.data
            perturb.grad[:] = 0
        return loss.detach()


def main():
    torch.manual_seed(0)
    ids = torch.randint(1, 50, (24, 8))
    ids[:, 6:] = 0
    data = [{"input_ids": ids[i], "attention_mask": (ids[i] != 0).long(), "labels": int(ids[i, 0] % 3)} for i in range(24)]
    model = TinyBertForSequenceClassification(TinyBertConfig())
    c0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/flag", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    FlagTrainer(model=model, args=args, train_dataset=data).train()
    return {"model": model}, {"classifier_changed": not torch.equal(c0, model.classifier.weight)}

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
