import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MixStyle(nn.Module):
    """Mixes instance-level feature statistics across the batch (domain generalization across recording devices)."""

    def __init__(self, p=0.5, alpha=0.1, eps=1e-6):
        super().__init__()
        self.p, self.eps = p, eps
        self.beta = torch.distributions.Beta(alpha, alpha)

    def forward(self, x):
        if not self.training or random.random() > self.p:
            return x
        b = x.size(0)
        mu = x.mean(dim=[2, 3], keepdim=True)
        sig = (x.var(dim=[2, 3], keepdim=True) + self.eps).sqrt()
        mu, sig = mu.detach(), sig.detach()
        x_normed = (x - mu) / sig
        lmda = self.beta.sample((b, 1, 1, 1))
        perm = torch.randperm(b)
        mu_mix = mu * lmda + mu[perm] * (1 - lmda)
        sig_mix = sig * lmda + sig[perm] * (1 - lmda)
        return x_normed * sig_mix + mu_mix


class SceneConfig(PretrainedConfig):
    model_type = "asc-cnn"

    def __init__(self, channels=8, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels


class SceneClassifier(PreTrainedModel):
    config_class = SceneConfig

    def __init__(self, config):
        super().__init__(config)
        c = config.channels
        self.block1 = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.mixstyle = MixStyle(p=1.0)
        self.block2 = nn.Sequential(nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU())
        self.classifier = nn.Linear(2 * c, config.num_labels)
        self.post_init()

    def forward(self, log_mel, labels=None):
        h = self.block2(self.mixstyle(self.block1(log_mel)))
        logits = self.classifier(h.mean(dim=[2, 3]))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DeviceShiftedScenes(torch.utils.data.Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 1, 16, 12, generator=g) * (1 + torch.rand(n, 1, 1, 1, generator=g))
        self.y = torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"log_mel": self.x[i], "label": int(self.y[i])}


def main():
    random.seed(0)
    torch.manual_seed(0)
    model = SceneClassifier(SceneConfig(num_labels=3))
    b1 = model.block1[0].weight.detach().clone()
    b2 = model.block2[0].weight.detach().clone()
    args = TrainingArguments(output_dir="out-asc", per_device_train_batch_size=8, learning_rate=3e-3,
                             num_train_epochs=2, report_to=[], save_strategy="no")
    Trainer(model=model, args=args, train_dataset=DeviceShiftedScenes()).train()
    return {"model": model}, {
        "block1_changed": not torch.equal(b1, model.block1[0].weight),
        "block2_changed": not torch.equal(b2, model.block2[0].weight),
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
