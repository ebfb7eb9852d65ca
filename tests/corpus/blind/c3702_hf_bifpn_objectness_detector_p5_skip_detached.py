import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class DetectorConfig(PretrainedConfig):
    model_type = "bifpn_objectness"

    def __init__(self, width=8, **kwargs):
        super().__init__(**kwargs)
        self.width = width


class Backbone(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.stage3 = nn.Sequential(nn.Conv2d(3, w, 3, stride=2, padding=1), nn.ReLU())
        self.stage4 = nn.Sequential(nn.Conv2d(w, w, 3, stride=2, padding=1), nn.ReLU())
        self.stage5 = nn.Sequential(nn.Conv2d(w, w, 3, stride=2, padding=1), nn.ReLU())

    def forward(self, x):
        c3 = self.stage3(x)
        c4 = self.stage4(c3)
        return c3, c4, self.stage5(c4)


class BiFPNLayer(nn.Module):
    """One BiFPN layer with fast normalized fusion (EfficientDet)."""

    def __init__(self, w, eps=1e-4):
        super().__init__()
        self.eps = eps
        self.w_td = nn.Parameter(torch.ones(2))
        self.w_out = nn.Parameter(torch.ones(2))
        self.conv4_td = nn.Conv2d(w, w, 3, padding=1)
        self.conv5_out = nn.Conv2d(w, w, 3, padding=1)
        self.conv3_out = nn.Conv2d(w, w, 3, padding=1)

    def _norm(self, w):
        w = F.relu(w)
        return w / (w.sum() + self.eps)

    def forward(self, p3, p4, p5):
        p5_skip = p5.detach()
        a = self._norm(self.w_td)
        p4_td = self.conv4_td(a[0] * p4 + a[1] * F.interpolate(p5_skip, size=p4.shape[-2:], mode="nearest"))
        p3_out = self.conv3_out(p3 + F.interpolate(p4_td, size=p3.shape[-2:], mode="nearest"))
        b = self._norm(self.w_out)
        p5_out = self.conv5_out(b[0] * p5_skip + b[1] * F.max_pool2d(p4_td, 2))
        return p3_out, p4_td, p5_out


class BiFPNObjectnessDetector(PreTrainedModel):
    config_class = DetectorConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = Backbone(config.width)
        self.bifpn = BiFPNLayer(config.width)
        self.head = nn.Conv2d(config.width, 1, 1)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        p3, p4, p5 = self.backbone(pixel_values)
        outs = self.bifpn(p3, p4, p5)
        logits = [self.head(p).flatten(1) for p in outs]
        logits = torch.cat(logits, dim=1)
        loss = None
        if labels is not None:
            loss = F.binary_cross_entropy_with_logits(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


class ObjectnessDataset(torch.utils.data.Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(4)
        self.images = torch.randn(n, 3, 16, 16, generator=g)
        self.targets = (torch.rand(n, 64 + 16 + 4, generator=g) > 0.8).float()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return {"pixel_values": self.images[i], "labels": self.targets[i]}


def main():
    torch.manual_seed(0)
    model = BiFPNObjectnessDetector(DetectorConfig())
    s5 = model.backbone.stage5[0].weight.detach().clone()
    h0 = model.head.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/bifpn", per_device_train_batch_size=8, max_steps=6,
                             learning_rate=1e-2, lr_scheduler_type="constant", report_to="none")
    Trainer(model=model, args=args, train_dataset=ObjectnessDataset()).train()
    return {"head": model.head}, {
        "stage5_changed": not torch.equal(s5, model.backbone.stage5[0].weight),
        "head_changed": not torch.equal(h0, model.head.weight),
    }

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
