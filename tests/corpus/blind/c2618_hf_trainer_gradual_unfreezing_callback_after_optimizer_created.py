import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import (PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments)
from transformers.modeling_outputs import SequenceClassifierOutput


class BertLikeConfig(PretrainedConfig):
    model_type = "tiny-bert"

    def __init__(self, vocab_size=40, hidden_size=16, num_hidden_layers=2, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size, self.num_hidden_layers = vocab_size, hidden_size, num_hidden_layers


class BertLikeForSequenceClassification(PreTrainedModel):
    config_class = BertLikeConfig
    base_model_prefix = "encoder"

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.ModuleList(nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.0, batch_first=True)
                                     for _ in range(config.num_hidden_layers))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embeddings(input_ids)
        for layer in self.encoder:
            h = layer(h)
        logits = self.classifier(h[:, 0])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class GradualUnfreezeCallback(TrainerCallback):
    """ULMFiT-style: start with only the classifier trainable, unfreeze the top encoder layers epoch by epoch."""

    def __init__(self, model):
        self.layers = list(model.encoder)
        for p in model.embeddings.parameters():
            p.requires_grad = False
        for layer in self.layers:
            layer.requires_grad_(False)

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        epoch = int(state.epoch)
        if epoch >= 1:
            self.layers[-epoch].requires_grad_(True)


class ReviewDataset(Dataset):
    def __init__(self, n=12, seq_len=6):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, seq_len), generator=g)
        self.labels = torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main():
    model = BertLikeForSequenceClassification(BertLikeConfig())
    top_before = model.encoder[-1].linear1.weight.detach().clone()
    cls_before = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2618", per_device_train_batch_size=4, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=ReviewDataset(),
                      callbacks=[GradualUnfreezeCallback(model)])
    trainer.train()
    facts = {"top_layer_requires_grad": model.encoder[-1].linear1.weight.requires_grad,
             "top_layer_changed": not torch.equal(top_before, model.encoder[-1].linear1.weight),
             "classifier_changed": not torch.equal(cls_before, model.classifier.weight)}
    return {}, facts

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
