import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class PoseConfig(PretrainedConfig):
    model_type = "tiny_pose"

    def __init__(self, n_keypoints=3, size=8, **kwargs):
        super().__init__(**kwargs)
        self.n_keypoints, self.size = n_keypoints, size


class HeatmapPoseNet(PreTrainedModel):
    config_class = PoseConfig

    def __init__(self, config):
        super().__init__(config)
        k = config.n_keypoints
        self.backbone = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, k, 3, padding=1))
        self.refine = nn.Linear(2 * k, 2 * k)

    def forward(self, pixel_values=None, **kwargs):
        return ModelOutput(heatmaps=self.backbone(pixel_values))


def heatmaps_to_coords(heatmaps):
    b, k, h, w = heatmaps.shape
    idx = heatmaps.flatten(2).argmax(-1)
    xy = torch.stack([idx % w, idx // w], dim=-1).float()
    return xy / (w - 1)


class KeypointTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(pixel_values=inputs["pixel_values"])
        coords = heatmaps_to_coords(outputs["heatmaps"])
        refined = coords + model.refine(coords.flatten(1)).view_as(coords)
        loss = F.smooth_l1_loss(refined, inputs["keypoints"])
        return (loss, outputs) if return_outputs else loss


def make_samples(n=32, size=8, k=3):
    g = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(n):
        pts = torch.randint(0, size, (k, 2), generator=g)
        img = 0.1 * torch.randn(1, size, size, generator=g)
        for x, y in pts.tolist():
            img[0, y, x] += 1.0
        samples.append({"pixel_values": img, "keypoints": pts.float() / (size - 1)})
    return samples


def main():
    torch.manual_seed(0)
    model = HeatmapPoseNet(PoseConfig())
    bb0 = model.backbone[0].weight.detach().clone()
    ref0 = model.refine.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/pose", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, remove_unused_columns=False, report_to="none")
    KeypointTrainer(model=model, args=args, train_dataset=make_samples()).train()
    return {"model": model}, {
        "backbone_changed": not torch.equal(bb0, model.backbone[0].weight),
        "refine_changed": not torch.equal(ref0, model.refine.weight),
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
