import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"T": 3.0, "alpha": 0.8, "lr_head": 1e-2, "lr_backbone": 1e-3, "warmup_epochs": 1, "epochs": 3}


class MobileStudent(nn.Module):
    def __init__(self, num_classes=6):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(32, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def freeze_backbone(model):
    for p in model.module.backbone.parameters():
        p.requires_grad = False


def unfreeze_backbone(model):
    for p in model.module.backbone.parameters():
        p.requires_grad == True


def build_optimizer(model, cfg):
    return torch.optim.SGD([{"params": model.module.head.parameters(), "lr": cfg["lr_head"]},
                            {"params": model.module.backbone.parameters(), "lr": cfg["lr_backbone"]}], momentum=0.9)


def distill_epoch(student, teacher, optimizer, x, y, cfg):
    with torch.no_grad():
        t_logits = teacher(x)
    s_logits = student(x)
    kd = F.kl_div(F.log_softmax(s_logits / cfg["T"], 1), F.softmax(t_logits / cfg["T"], 1), reduction="batchmean")
    loss = cfg["alpha"] * kd * cfg["T"] ** 2 + (1 - cfg["alpha"]) * F.cross_entropy(s_logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main():
    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 6)).eval()
    student = nn.DataParallel(MobileStudent())
    freeze_backbone(student)
    optimizer = build_optimizer(student, CFG)
    x, y = torch.randn(16, 3, 16, 16), torch.randint(0, 6, (16,))
    b0 = student.module.backbone[0].weight.detach().clone()
    h0 = student.module.head.weight.detach().clone()
    for epoch in range(CFG["epochs"]):
        if epoch == CFG["warmup_epochs"]:
            unfreeze_backbone(student)
        distill_epoch(student, teacher, optimizer, x, y, CFG)
    return {"model": student.module}, {
        "backbone_changed": not torch.equal(b0, student.module.backbone[0].weight),
        "head_changed": not torch.equal(h0, student.module.head.weight),
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
