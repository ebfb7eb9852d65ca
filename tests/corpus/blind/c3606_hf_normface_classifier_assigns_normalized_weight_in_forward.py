import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class FaceEmbedConfig(PretrainedConfig):
    model_type = "normface"

    def __init__(self, in_dim=20, feat_dim=8, scale=16.0, **kwargs):
        self.in_dim = in_dim
        self.feat_dim = feat_dim
        self.scale = scale
        super().__init__(**kwargs)


class FeatureExtractor(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(config.in_dim, 32), nn.PReLU(), nn.Linear(32, config.feat_dim))

    def forward(self, x):
        return self.net(x)


class NormFaceModel(PreTrainedModel):
    config_class = FaceEmbedConfig

    def __init__(self, config):
        super().__init__(config)
        self.feature = FeatureExtractor(config)
        self.pred = nn.Linear(config.feat_dim, config.num_labels, bias=False)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        feat = F.normalize(self.feature(pixel_values), dim=1)
        self.pred.weight = self.pred.weight / torch.norm(self.pred.weight, dim=1, keepdim=True)
        logits = self.config.scale * self.pred(feat)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_faces(n=48, n_ids=4, in_dim=20):
    g = torch.Generator().manual_seed(5)
    protos = torch.randn(n_ids, in_dim, generator=g)
    rows = []
    for i in range(n):
        label = i % n_ids
        rows.append({"pixel_values": protos[label] + 0.3 * torch.randn(in_dim, generator=g), "label": label})
    return rows


def main():
    torch.manual_seed(0)
    model = NormFaceModel(FaceEmbedConfig(num_labels=4))
    args = TrainingArguments(output_dir="normface_out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=make_faces())
    trainer.train()
    return {"model": model}

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
