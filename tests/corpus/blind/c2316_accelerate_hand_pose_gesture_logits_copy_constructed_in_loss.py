import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset


class HandCropDataset(Dataset):
    """Hand crops with 5 keypoints encoded as SimCC bin labels, plus the gesture class of the crop."""

    def __init__(self, n=20, size=32, k=5, split=2, n_cls=3):
        g = torch.Generator().manual_seed(0)
        self.images = torch.randn(n, 3, size, size, generator=g)
        self.kx = torch.randint(0, size * split, (n, k), generator=g)
        self.ky = torch.randint(0, size * split, (n, k), generator=g)
        self.category = torch.randint(0, n_cls, (n,), generator=g)
        self.bins = size * split

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x_label = F.one_hot(self.kx[i], self.bins).float()
        y_label = F.one_hot(self.ky[i], self.bins).float()
        return {"image": self.images[i], "keypoint_x_labels": x_label, "keypoint_y_labels": y_label,
                "keypoint_weights": torch.ones(self.kx.shape[1]), "category_id": self.category[i]}


class CSPLiteBackbone(nn.Module):
    def __init__(self, c=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.SiLU())
        self.stage = nn.Sequential(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.BatchNorm2d(2 * c), nn.SiLU())

    def forward(self, x):
        return self.stage(self.stem(x))


class SimCCHeadWithCls(nn.Module):
    """RTMCC-style head: per-keypoint 1-D x/y classification, plus a gesture branch added on the same features."""

    def __init__(self, in_ch=32, feat_hw=8, k=5, bins=64, n_cls=3, beta=10.0):
        super().__init__()
        self.final_layer = nn.Conv2d(in_ch, k, kernel_size=1)
        self.mlp = nn.Sequential(nn.Flatten(2), nn.Linear(feat_hw * feat_hw, 32), nn.SiLU())
        self.cls_x = nn.Linear(32, bins)
        self.cls_y = nn.Linear(32, bins)
        self.cls_fc = nn.Linear(in_ch, n_cls)
        self.beta = beta

    def forward(self, feats):
        tokens = self.mlp(self.final_layer(feats))
        pre_cls = self.cls_fc(feats.mean(dim=(2, 3)))
        return self.cls_x(tokens), self.cls_y(tokens), pre_cls

    def kl_simcc(self, pred, target, weights):
        log_p = F.log_softmax(pred * self.beta, dim=-1)
        return (F.kl_div(log_p, target, reduction="none").sum(-1) * weights).mean()

    def loss(self, feats, batch):
        pred_x, pred_y, pre_cls = self.forward(feats)
        gt_x, gt_y = batch["keypoint_x_labels"], batch["keypoint_y_labels"]
        cls_label = torch.tensor(batch["category_id"], device=gt_x.device)
        pre_cls1 = torch.tensor(pre_cls, device=gt_x.device)
        w = batch["keypoint_weights"]
        return {
            "loss_kpt": self.kl_simcc(pred_x, gt_x, w) + self.kl_simcc(pred_y, gt_y, w),
            "loss_cls": 0.5 * F.cross_entropy(pre_cls1, cls_label),
        }


class HandPoseEstimator(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = CSPLiteBackbone()
        self.head = SimCCHeadWithCls()

    def forward(self, image):
        return self.head(self.backbone(image))

    def loss(self, batch):
        return self.head.loss(self.backbone(batch["image"]), batch)


def train(accelerator, model, loader, optimizer, scheduler, epochs=1):
    model.train()
    for _ in range(epochs):
        for batch in loader:
            with accelerator.accumulate(model):
                losses = model.loss(batch)
                accelerator.backward(sum(losses.values()))
                accelerator.clip_grad_norm_(model.parameters(), 5.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = HandPoseEstimator()
    optimizer = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    loader = DataLoader(HandCropDataset(), batch_size=4, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    cls0 = model.head.cls_fc.weight.detach().clone()
    kpt0 = model.head.cls_x.weight.detach().clone()
    train(accelerator, model, loader, optimizer, scheduler)
    return ({"model": model},
            {"gesture_branch_changed": not torch.equal(cls0, model.head.cls_fc.weight),
             "keypoint_branch_changed": not torch.equal(kpt0, model.head.cls_x.weight)})

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
