import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import (PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback,
                          TrainingArguments)
from transformers.modeling_outputs import SequenceClassifierOutput


class TextCNNConfig(PretrainedConfig):
    model_type = "textcnn"

    def __init__(self, vocab_size=50, dim=16, num_labels=4, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.dim = vocab_size, dim


class TextCNNForClassification(PreTrainedModel):
    config_class = TextCNNConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = nn.Sequential(nn.Embedding(config.vocab_size, config.dim))
        self.convs = nn.ModuleList(nn.Conv1d(config.dim, config.dim, k, padding=k // 2) for k in (3, 5))
        self.classifier = nn.Linear(2 * config.dim, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.backbone(input_ids).transpose(1, 2)
        pooled = torch.cat([F.relu(c(h)).amax(-1) for c in self.convs], -1)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def set_trainable(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


class GradualUnfreeze(TrainerCallback):
    def __init__(self, unfreeze_epoch=1):
        self.unfreeze_epoch = unfreeze_epoch
        self.epoch = 0

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if self.epoch == self.unfreeze_epoch:
            set_trainable(model.backbone, True)
        self.epoch += 1


class Headlines(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 50, (n, 9), generator=g)
        self.labels = torch.randint(0, 4, (n,), generator=g).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": self.labels[i]}


def main():
    model = TextCNNForClassification(TextCNNConfig())
    set_trainable(model.backbone, False)
    set_trainable(model.convs, False)
    emb0 = model.backbone[0].weight.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c3217_out", per_device_train_batch_size=4, num_train_epochs=3,
                             learning_rate=5e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=Headlines(), callbacks=[GradualUnfreeze()])
    trainer.train()
    facts = {"backbone_trainable_at_end": model.backbone[0].weight.requires_grad,
             "backbone_changed": not torch.equal(emb0, model.backbone[0].weight),
             "classifier_changed": not torch.equal(cls0, model.classifier.weight)}
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
