import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import (PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments)
from transformers.modeling_outputs import SequenceClassifierOutput


class ProtoConfig(PretrainedConfig):
    model_type = "proto-intent"

    def __init__(self, vocab_size=40, hidden=16, num_labels=3, temperature=0.5, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.hidden, self.temperature = vocab_size, hidden, temperature


class PrototypeIntentModel(PreTrainedModel):
    """Utterance encoder scored against per-intent prototypes (mean embeddings) plus a linear head."""

    config_class = ProtoConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab_size, config.hidden, mode="mean")
        self.encoder = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.GELU(),
                                     nn.Linear(config.hidden, config.hidden))
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.register_buffer("prototypes", torch.zeros(config.num_labels, config.hidden))
        self.post_init()

    def encode(self, input_ids):
        return F.normalize(self.encoder(self.embed(input_ids)), dim=-1)

    def forward(self, input_ids=None, labels=None):
        z = self.encode(input_ids)
        logits = self.classifier(z) + z @ self.prototypes.T / self.config.temperature
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def compute_prototypes(model, dataset):
    was_training = model.training
    model.eval()
    torch.set_grad_enabled(False)
    ids = torch.stack([dataset[i]["input_ids"] for i in range(len(dataset))])
    labels = torch.tensor([dataset[i]["label"] for i in range(len(dataset))])
    z = model.encode(ids)
    protos = torch.stack([z[labels == c].mean(0) for c in range(model.config.num_labels)])
    model.train(was_training)
    return F.normalize(protos, dim=-1)


class PrototypeRefresh(TrainerCallback):
    def __init__(self, dataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, model=None, **kwargs):
        model.prototypes.copy_(compute_prototypes(model, self.dataset))


class Utterances(Dataset):
    def __init__(self, n=30, seq=6):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.arange(n) % 3
        self.ids = torch.randint(0, 40, (n, seq), generator=g)
        self.ids[:, 0] = self.labels * 10 + 1

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.labels[i])}


def main():
    torch.manual_seed(0)
    data = Utterances()
    model = PrototypeIntentModel(ProtoConfig())
    args = TrainingArguments(output_dir="/tmp/proto_out", per_device_train_batch_size=10, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[PrototypeRefresh(data)])
    encoder_before = model.encoder[0].weight.detach().clone()
    trainer.train()
    return {"model": model}, {"encoder_changed": not torch.equal(encoder_before, model.encoder[0].weight)}

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
