import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyTextConfig(PretrainedConfig):
    model_type = "tiny-text"

    def __init__(self, vocab_size=50, hidden=16, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden = vocab_size, hidden


class TinyTextClassifier(PreTrainedModel):
    config_class = TinyTextConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden)
        self.encoder = nn.TransformerEncoderLayer(config.hidden, nhead=2, dim_feedforward=32, batch_first=True,
                                                  dropout=0.0)
        self.pooler = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.Tanh())
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids=None, inputs_embeds=None, labels=None):
        if inputs_embeds is None:
            inputs_embeds = self.embeddings(input_ids)
        h = self.encoder(inputs_embeds)
        logits = self.classifier(self.pooler(h[:, 0]))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class FGMTrainer(Trainer):
    """Fast Gradient Method adversarial training on the word embeddings."""

    def __init__(self, *args, fgm_epsilon=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.fgm_epsilon = fgm_epsilon

    def training_step(self, model, inputs, num_items_in_batch=None):
        model.train()
        inputs = self._prepare_inputs(inputs)
        embeds = model.get_input_embeddings()(inputs["input_ids"])
        loss = model(inputs_embeds=embeds, labels=inputs["labels"]).loss
        self.accelerator.backward(loss)
        grad = embeds.grad
        delta = self.fgm_epsilon * grad / (grad.norm() + 1e-8)
        adv_loss = model(inputs_embeds=embeds.detach() + delta, labels=inputs["labels"]).loss
        self.accelerator.backward(adv_loss)
        return (loss + adv_loss).detach() / 2


class Reviews(Dataset):
    def __init__(self, n=32, seq=8):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 50, (n, seq), generator=g)
        self.labels = (self.ids[:, 1:4].float().mean(-1) > 25).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.labels[i])}


def main():
    torch.manual_seed(0)
    model = TinyTextClassifier(TinyTextConfig())
    args = TrainingArguments(output_dir="/tmp/fgm_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=5e-3, report_to="none", seed=0)
    trainer = FGMTrainer(model=model, args=args, train_dataset=Reviews(), fgm_epsilon=0.5)
    trainer.train()
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
