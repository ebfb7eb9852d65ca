import numpy as np
import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput

SIGMAS = np.array([0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079])


class PoseConfig(PretrainedConfig):
    model_type = "tiny-pose"

    def __init__(self, num_keypoints=7, channels=8, **kw):
        super().__init__(**kw)
        self.num_keypoints, self.channels = num_keypoints, channels


class PoseRegressor(PreTrainedModel):
    config_class = PoseConfig

    def __init__(self, config):
        super().__init__(config)
        c = config.channels
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.stage = nn.Sequential(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU())
        self.keypoint_head = nn.Linear(2 * c, config.num_keypoints * 2)
        self.post_init()

    def forward(self, pixel_values, keypoints=None, areas=None):
        h = self.stage(self.stem(pixel_values)).mean(dim=(2, 3))
        coords = torch.sigmoid(self.keypoint_head(h)).view(-1, self.config.num_keypoints, 2)
        return ModelOutput(pred_keypoints=coords)


def oks_per_instance(pred, gt, area):
    """COCO object keypoint similarity for one instance (numpy, as in the evaluation toolkit)."""
    d2 = ((pred - gt) ** 2).sum(-1)
    return np.mean(np.exp(-d2 / (2 * area * (2 * SIGMAS) ** 2 + np.spacing(1))))


class OKSTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(pixel_values=inputs["pixel_values"])
        pred = outputs["pred_keypoints"].detach().cpu().numpy()
        gt, areas = inputs["keypoints"].cpu().numpy(), inputs["areas"].cpu().numpy()
        oks = [oks_per_instance(p, g, a) for p, g, a in zip(pred, gt, areas)]
        loss = torch.tensor(1.0 - float(np.mean(oks)), dtype=torch.float32)
        return (loss, outputs) if return_outputs else loss


def make_dataset(n=32):
    g = torch.Generator().manual_seed(0)
    return [{"pixel_values": torch.randn(3, 16, 16, generator=g), "keypoints": torch.rand(7, 2, generator=g),
             "areas": torch.rand((), generator=g) * 0.5 + 0.1} for _ in range(n)]


def main():
    torch.manual_seed(0)
    model = PoseRegressor(PoseConfig())
    args = TrainingArguments(output_dir="/tmp/pose-oks", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none", remove_unused_columns=False)
    w0 = model.keypoint_head.weight.detach().clone()
    OKSTrainer(model=model, args=args, train_dataset=make_dataset()).train()
    return ({"model": model}, {"head_changed": not torch.equal(w0, model.keypoint_head.weight.detach())})

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
