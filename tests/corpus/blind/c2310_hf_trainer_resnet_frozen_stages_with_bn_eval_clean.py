import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class ResNetLiteConfig(PretrainedConfig):
    model_type = "resnet_lite"

    def __init__(self, frozen_stages=1, n_cls=3, **kwargs):
        super().__init__(**kwargs)
        self.frozen_stages, self.n_cls = frozen_stages, n_cls


def stage(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class ResNetLite(PreTrainedModel):
    config_class = ResNetLiteConfig

    def __init__(self, config):
        super().__init__(config)
        self.stem = stage(3, 8)
        self.layer1, self.layer2 = stage(8, 8), stage(8, 16)
        self.head = nn.Linear(16, config.n_cls)
        self._freeze_stages()

    def _freeze_stages(self):
        if self.config.frozen_stages >= 0:
            self.stem.eval()
            for p in self.stem.parameters():
                p.requires_grad = False
        for i in range(1, self.config.frozen_stages + 1):
            m = getattr(self, f"layer{i}")
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, pixel_values, labels=None):
        h = self.layer2(self.layer1(self.stem(pixel_values))).mean(dim=(2, 3))
        logits = self.head(h)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Images(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, k):
        return {"pixel_values": self.x[k], "labels": self.y[k]}


def main():
    torch.manual_seed(0)
    model = ResNetLite(ResNetLiteConfig(frozen_stages=1))
    snap = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = TrainingArguments(output_dir="out_frozen", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to=[])
    Trainer(model=model, args=args, train_dataset=Images()).train()
    changed = lambda n: not torch.equal(snap[n], dict(model.named_parameters())[n])
    return ({"model": model},
            {"stem_changed": changed("stem.0.weight"), "layer1_changed": changed("layer1.0.weight"),
             "layer2_changed": changed("layer2.0.weight"), "head_changed": changed("head.weight"),
             "layer1_bn_eval": not model.layer1[1].training})

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
