import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class DATConfig(PretrainedConfig):
    model_type = "tiny-dat"

    def __init__(self, dim=16, n_points=4, num_labels=3, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.n_points, self.num_labels = dim, n_points, num_labels


class DeformableSampling(nn.Module):
    """Each query attends to n_points feature positions shifted by learned offsets."""

    def __init__(self, dim, n_points):
        super().__init__()
        self.offset_net = nn.Linear(dim, 2 * n_points)
        self.attn_weights = nn.Linear(dim, n_points)
        self.value = nn.Linear(dim, dim)
        self.n_points = n_points

    def forward(self, feat):
        b, c, h, w = feat.shape
        q = feat.flatten(2).transpose(1, 2)  # (B, HW, C)
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        ref = torch.stack([xs, ys], -1).reshape(1, h * w, 1, 2).float()
        pos = ref + self.offset_net(q).view(b, h * w, self.n_points, 2)
        px = pos[..., 0].round().long().clamp(0, w - 1)
        py = pos[..., 1].round().long().clamp(0, h - 1)
        v = self.value(q)
        idx = (py * w + px).view(b, -1)
        sampled = v.gather(1, idx[..., None].expand(-1, -1, c)).view(b, h * w, self.n_points, c)
        weights = self.attn_weights(q).softmax(-1)[..., None]
        return q + (weights * sampled).sum(2)


class DATForImageClassification(PreTrainedModel):
    config_class = DATConfig

    def __init__(self, config):
        super().__init__(config)
        self.stem = nn.Conv2d(3, config.dim, 2, 2)
        self.deform = DeformableSampling(config.dim, config.n_points)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        tokens = self.deform(self.stem(pixel_values))
        logits = self.classifier(tokens.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Shapes(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"pixel_values": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = DATForImageClassification(DATConfig())
    off0 = model.deform.offset_net.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/dat", per_device_train_batch_size=4, num_train_epochs=2, learning_rate=2e-3,
                             weight_decay=0.0, report_to="none")
    Trainer(model=model, args=args, train_dataset=Shapes()).train()
    return {"model": model}, {"offset_net_changed": not torch.equal(off0, model.deform.offset_net.weight)}

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
