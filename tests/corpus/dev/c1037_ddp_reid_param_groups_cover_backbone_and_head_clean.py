import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset


class ReIDNet(nn.Module):
    def __init__(self, num_ids=8, feat_dim=32):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                                      nn.Linear(64, feat_dim))
        self.bottleneck = nn.BatchNorm1d(feat_dim)
        self.classifier = nn.Linear(feat_dim, num_ids, bias=False)

    def forward(self, img):
        return self.classifier(self.bottleneck(self.backbone(img)))


def build_optimizer(model, base_lr=0.01):
    head_params = list(model.bottleneck.parameters()) + list(model.classifier.parameters())
    head_ids = {id(p) for p in head_params}
    base_params = [p for p in model.parameters() if id(p) not in head_ids]
    return torch.optim.SGD([{"params": base_params, "lr": base_lr},
                            {"params": head_params, "lr": 10 * base_lr}], momentum=0.9, weight_decay=5e-4)


def main():
    torch.manual_seed(0)
    init_file = os.path.join(tempfile.mkdtemp(), "ddp_init")
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=0, world_size=1)
    try:
        g = torch.Generator().manual_seed(0)
        ids = torch.randint(0, 8, (48,), generator=g)
        img = torch.randn(48, 3, 8, 8, generator=g) + ids.view(-1, 1, 1, 1) * 0.1
        loader = DataLoader(TensorDataset(img, ids), batch_size=12, shuffle=True, generator=g)
        model = ReIDNet()
        ddp_model = DDP(model)
        optimizer = build_optimizer(ddp_model.module)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[1], gamma=0.1)
        backbone_before = model.backbone[0].weight.detach().clone()
        for _ in range(2):
            for x, y in loader:
                loss = F.cross_entropy(ddp_model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            scheduler.step()
        n_in_opt = sum(len(grp["params"]) for grp in optimizer.param_groups)
        facts = {
            "all_params_in_optimizer": n_in_opt == len(list(model.parameters())),
            "backbone_changed": not torch.equal(backbone_before, model.backbone[0].weight),
        }
    finally:
        dist.destroy_process_group()
    return {"model": model}, facts

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
