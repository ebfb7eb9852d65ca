import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class PoseConfig(PretrainedConfig):
    model_type = "tiny-pose"

    def __init__(self, size=12, joints=3, hidden=16, vis_weight=0.5, **kw):
        super().__init__(**kw)
        self.size, self.joints, self.hidden, self.vis_weight = size, joints, hidden, vis_weight


class HeatmapPoseNet(PreTrainedModel):
    config_class = PoseConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = nn.Sequential(nn.Conv2d(1, config.hidden, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(config.hidden, config.hidden, 3, padding=1), nn.ReLU())
        self.heatmap_head = nn.Conv2d(config.hidden, config.joints, 1)
        self.visibility_head = nn.Linear(config.hidden, config.joints)
        self.post_init()

    def forward(self, pixel_values):
        feats = self.backbone(pixel_values)
        return {"heatmaps": self.heatmap_head(feats), "visibility": self.visibility_head(feats.mean((2, 3)))}


def decode_keypoints(heatmaps):
    """Heatmap peak -> (x, y) in normalized image coordinates."""
    b, j, h, w = heatmaps.shape
    idx = heatmaps.flatten(2).argmax(-1)
    xs, ys = (idx % w).float() / (w - 1), (idx // w).float() / (h - 1)
    return torch.stack([xs, ys], -1)


class PoseTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        keypoints, visible = inputs.pop("keypoints"), inputs.pop("visible")
        out = model(**inputs)
        coords = decode_keypoints(out["heatmaps"])
        coord_loss = (F.smooth_l1_loss(coords, keypoints, reduction="none").sum(-1) * visible).mean()
        vis_loss = F.binary_cross_entropy_with_logits(out["visibility"], visible)
        loss = coord_loss + model.config.vis_weight * vis_loss
        return (loss, out) if return_outputs else loss


def make_dataset(n=32, size=12, joints=3):
    g = torch.Generator().manual_seed(0)
    kp = torch.rand(n, joints, 2, generator=g)
    imgs = torch.zeros(n, 1, size, size)
    for i in range(n):
        for j in range(joints):
            x, y = (kp[i, j] * (size - 1)).round().long()
            imgs[i, 0, y, x] = 1.0
    vis = (torch.rand(n, joints, generator=g) > 0.2).float()
    return [{"pixel_values": imgs[i], "keypoints": kp[i], "visible": vis[i]} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = HeatmapPoseNet(PoseConfig())
    hm0 = model.heatmap_head.weight.detach().clone()
    vis0 = model.visibility_head.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=1, learning_rate=1e-2,
                             remove_unused_columns=False, report_to="none")
    trainer = PoseTrainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    batch = trainer.data_collator(make_dataset()[:8])
    trainer.compute_loss(model, batch).backward()
    return {"model": model}, {
        "heatmap_head_changed": not torch.equal(hm0, model.heatmap_head.weight),
        "visibility_head_changed": not torch.equal(vis0, model.visibility_head.weight),
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
