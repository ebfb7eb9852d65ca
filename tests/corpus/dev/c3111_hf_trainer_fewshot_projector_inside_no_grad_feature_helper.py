import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class FewShotConfig(PretrainedConfig):
    model_type = "fewshot-proto"

    def __init__(self, in_dim=20, hidden=32, proj_dim=16, num_labels=4, **kwargs):
        super().__init__(**kwargs)
        self.in_dim, self.hidden, self.proj_dim, self.num_labels = in_dim, hidden, proj_dim, num_labels


class FewShotClassifier(PreTrainedModel):
    config_class = FewShotConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = nn.Sequential(nn.Linear(config.in_dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.hidden))
        self.projector = nn.Sequential(nn.Linear(config.hidden, config.proj_dim), nn.LayerNorm(config.proj_dim))
        self.classifier = nn.Linear(config.proj_dim, config.num_labels)
        self.backbone.requires_grad_(False)
        self.post_init()

    @torch.no_grad()
    def extract_features(self, pixel_values):
        h = self.backbone(pixel_values)
        return self.projector(h)

    def forward(self, pixel_values, labels=None):
        logits = self.classifier(self.extract_features(pixel_values))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class EpisodeDataset(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 20, generator=g)
        self.y = torch.randint(0, 4, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"pixel_values": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = FewShotClassifier(FewShotConfig())
    proj0 = model.projector[0].weight.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/fewshot", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=EpisodeDataset())
    trainer.train()
    batch = EpisodeDataset()[0]
    model(batch["pixel_values"][None], labels=batch["labels"][None]).loss.backward()
    g = model.projector[0].weight.grad
    facts = {"projector_changed": not torch.equal(proj0, model.projector[0].weight),
             "classifier_changed": not torch.equal(cls0, model.classifier.weight),
             "projector_grad_after_check": None if g is None else float(g.abs().sum() > 0)}
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
