import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class MultiHeadConfig(PretrainedConfig):
    model_type = "multihead-cnn"

    def __init__(self, n_classes=5, n_rotations=4, width=8, **kwargs):
        super().__init__(**kwargs)
        self.n_classes, self.n_rotations, self.width = n_classes, n_rotations, width


class Backbone(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                  nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.BatchNorm2d(2 * width),
                                  nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.body(x)


class MultiHeadModel(PreTrainedModel):
    config_class = MultiHeadConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = Backbone(config.width)
        self.classification_head = nn.Linear(2 * config.width, config.n_classes)
        self.rotation_head = nn.Linear(2 * config.width, config.n_rotations)
        self.active_head = "rotation"
        self.post_init()

    def forward(self, pixel_values=None, labels=None):
        feats = self.backbone(pixel_values)
        head = self.rotation_head if self.active_head == "rotation" else self.classification_head
        logits = head(feats)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def prepare_rotation_finetuning(model):
    for param in model.parameters():
        param.requires_grad = False
    for param in model.rotation_head.parameters():
        param.requires_grad = True
    model.active_head = "rotation"


def rotation_dataset(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 3, 12, 12, generator=g)
    k = torch.randint(0, 4, (n,), generator=g)
    return [{"pixel_values": torch.rot90(images[i], int(k[i]), dims=(1, 2)), "labels": int(k[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = MultiHeadModel(MultiHeadConfig())
    prepare_rotation_finetuning(model)
    bb0 = model.backbone.body[0].weight.detach().clone()
    cls0 = model.classification_head.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_rot", num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0, max_grad_norm=1.0)
    Trainer(model=model, args=args, train_dataset=rotation_dataset()).train()
    batch = rotation_dataset()[:8]
    out = model(pixel_values=torch.stack([b["pixel_values"] for b in batch]), labels=torch.tensor([b["labels"] for b in batch]))
    out.loss.backward()
    return {"model": model}, {"backbone_changed": not torch.equal(bb0, model.backbone.body[0].weight),
                              "classification_head_changed": not torch.equal(cls0, model.classification_head.weight)}

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
