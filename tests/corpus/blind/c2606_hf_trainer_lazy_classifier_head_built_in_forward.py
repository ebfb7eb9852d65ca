import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class ECGConfig(PretrainedConfig):
    model_type = "tiny-ecg"

    def __init__(self, in_leads=2, hidden_size=16, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.in_leads, self.hidden_size = in_leads, hidden_size


class ECGEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.conv1 = nn.Conv1d(config.in_leads, config.hidden_size, 7, stride=2, padding=3)
        self.conv2 = nn.Conv1d(config.hidden_size, config.hidden_size, 5, stride=2, padding=2)
        self.norm = nn.BatchNorm1d(config.hidden_size)

    def forward(self, x):
        return F.gelu(self.norm(self.conv2(F.gelu(self.conv1(x)))))


class ECGForClassification(PreTrainedModel):
    config_class = ECGConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = ECGEncoder(config)
        self.classifier = None
        self.post_init()

    def _build_head(self, features):
        # sized from the first batch so the same class works for any pooling setting
        self.classifier = nn.Linear(features.shape[-1], self.config.num_labels)

    def forward(self, signals, labels=None):
        feats = self.encoder(signals).flatten(1)
        if self.classifier is None:
            self._build_head(feats)
        logits = self.classifier(feats)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class ECGDataset(Dataset):
    def __init__(self, n=16, length=32):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 2, length, generator=g)
        self.y = torch.randint(0, 4, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"signals": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = ECGForClassification(ECGConfig())
    enc_before = model.encoder.conv1.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2606", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-2, weight_decay=0.01, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=ECGDataset())
    snapshots = {}

    def snapshot_head(module, inputs, output):
        snapshots.setdefault("classifier", module.classifier.weight.detach().clone())

    model.register_forward_hook(snapshot_head)
    trainer.train()
    in_opt = any(p is model.classifier.weight for grp in trainer.optimizer.param_groups for p in grp["params"])
    facts = {"classifier_changed": not torch.equal(snapshots["classifier"], model.classifier.weight),
             "classifier_in_optimizer": in_opt,
             "encoder_changed": not torch.equal(enc_before, model.encoder.conv1.weight)}
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
