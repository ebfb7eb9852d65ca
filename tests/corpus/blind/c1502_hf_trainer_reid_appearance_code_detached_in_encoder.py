import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import ModelOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from dataclasses import dataclass
from typing import Any


class ReIDConfig(PretrainedConfig):
    model_type = "tiny-reid"

    def __init__(self, in_dim=24, code_dim=12, num_ids=6, recon_weight=0.5, **kwargs):
        super().__init__(**kwargs)
        self.in_dim, self.code_dim, self.num_ids, self.recon_weight = in_dim, code_dim, num_ids, recon_weight


@dataclass
class ReIDOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    appearance: Any = None


class AppearanceEncoder(nn.Module):
    def __init__(self, in_dim, code_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, code_dim))

    def forward(self, x):
        f = self.net(x)
        f = f.detach()
        return f


class ReIDModel(PreTrainedModel):
    config_class = ReIDConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = AppearanceEncoder(config.in_dim, config.code_dim)
        self.id_classifier = nn.Linear(config.code_dim, config.num_ids)
        self.decoder = nn.Sequential(nn.Linear(config.code_dim, 32), nn.ReLU(), nn.Linear(32, config.in_dim))
        self.post_init()

    def forward(self, pixel_values=None, labels=None):
        f = self.encoder(pixel_values)
        logits = self.id_classifier(f)
        loss = None
        if labels is not None:
            recon = self.decoder(f)
            loss = F.cross_entropy(logits, labels) + self.config.recon_weight * F.mse_loss(recon, pixel_values)
        return ReIDOutput(loss=loss, logits=logits, appearance=f)


def make_dataset(n=48):
    g = torch.Generator().manual_seed(41)
    ids = torch.randint(0, 6, (n,), generator=g)
    protos = torch.randn(6, 24, generator=g)
    x = protos[ids] + 0.3 * torch.randn(n, 24, generator=g)
    return [{"pixel_values": x[i], "labels": int(ids[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = ReIDModel(ReIDConfig())
    enc0 = model.encoder.net[0].weight.detach().clone()
    cls0 = model.id_classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="tmp_reid", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.encoder.net[0].weight),
                              "id_classifier_changed": not torch.equal(cls0, model.id_classifier.weight)}

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
