import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class DocConfig(PretrainedConfig):
    model_type = "doc-classifier"

    def __init__(self, vocab_size=60, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden = vocab_size, hidden


class DocClassifier(PreTrainedModel):
    config_class = DocConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.encoder = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.GELU(),
                                     nn.Linear(config.hidden, config.hidden))
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        logits = self.classifier(self.encoder(self.embed(input_ids)).mean(dim=1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_backbone(model):
    for p in list(model.embed.parameters()) + list(model.encoder.parameters()):
        p.requires_grad = False


class GradualUnfreeze(TrainerCallback):
    """ULMFiT-style: train the head first, unfreeze the encoder after the first epoch."""

    def __init__(self, unfreeze_at_epoch=1):
        self.unfreeze_at_epoch = unfreeze_at_epoch

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        if state.epoch is not None and state.epoch >= self.unfreeze_at_epoch:
            for p in model.encoder.parameters():
                p.requires_grad = True


class Docs(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.ids, self.y = torch.randint(0, 60, (n, 10), generator=g), torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = DocClassifier(DocConfig(num_labels=3))
    freeze_backbone(model)
    enc0 = model.encoder[0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/ulmfit", per_device_train_batch_size=8, num_train_epochs=3,
                             learning_rate=1e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=Docs(), callbacks=[GradualUnfreeze(1)])
    trainer.train()
    model(input_ids=Docs().ids[:8], labels=Docs().y[:8]).loss.backward()
    in_opt = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    return ({"model": model},
            {"encoder_unfrozen": model.encoder[0].weight.requires_grad,
             "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
             "encoder_in_optimizer": id(model.encoder[0].weight) in in_opt})

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
