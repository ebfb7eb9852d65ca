import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, get_linear_schedule_with_warmup
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyBertConfig(PretrainedConfig):
    model_type = "tiny-bert-cls"

    def __init__(self, vocab_size=70, hidden_size=16, num_labels=3, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size, self.num_labels = vocab_size, hidden_size, num_labels


class TinyBertForSequenceClassification(PreTrainedModel):
    config_class = TinyBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.encoder(self.embeddings(input_ids))
        logits = self.classifier(h[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class NliDataset(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.ids, self.y = torch.randint(0, 70, (n, 10), generator=g), torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = TinyBertForSequenceClassification(TinyBertConfig())
    model.embeddings.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.0)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=1, num_training_steps=6)
    e0 = model.embeddings.weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    c0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/nli", per_device_train_batch_size=8, num_train_epochs=2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=NliDataset(), optimizers=(optimizer, scheduler))
    trainer.train()
    facts = {"embeddings_changed": not torch.equal(e0, model.embeddings.weight),
             "encoder_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
             "classifier_changed": not torch.equal(c0, model.classifier.weight)}
    return {"classifier": model.classifier}, facts

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
