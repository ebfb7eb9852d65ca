import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

ARGS = {
    "num_classes": 4, "threshold": 0.8, "lambda_u": 1.0, "mu": 2, "T": 1.0,
    "lr": 0.03, "momentum": 0.9, "nesterov": True, "wdecay": 5e-4, "ema_decay": 0.999,
    "steps": 4, "batch": 8,
}


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(c_in), nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(c_out), nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.short = nn.Conv2d(c_in, c_out, 1, stride, bias=False) if (c_in != c_out or stride != 1) else nn.Identity()

    def forward(self, x):
        o = F.leaky_relu(self.bn1(x), 0.1)
        y = self.conv1(o)
        y = self.conv2(F.leaky_relu(self.bn2(y), 0.1))
        return y + self.short(o)


class WideResNetLite(nn.Module):
    def __init__(self, num_classes, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.block1 = BasicBlock(width, width * 2, 2)
        self.block2 = BasicBlock(width * 2, width * 4, 2)
        self.bn = nn.BatchNorm2d(width * 4)
        self.fc = nn.Linear(width * 4, num_classes)

    def forward(self, x):
        x = self.block2(self.block1(self.conv1(x)))
        x = F.adaptive_avg_pool2d(F.leaky_relu(self.bn(x), 0.1), 1).flatten(1)
        return self.fc(x)


class ModelEMA:
    def __init__(self, model, decay):
        self.ema = copy.deepcopy(model.module if hasattr(model, "module") else model).eval()
        self.decay, self.updates = decay, 0
        for p in self.ema.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        msd = (model.module if hasattr(model, "module") else model).state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(self.decay).add_(msd[k].detach(), alpha=1 - self.decay)
        self.updates += 1


def build_optimizer(model, args):
    no_decay = ["bias", "bn"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
         "weight_decay": args["wdecay"]},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    return torch.optim.SGD(groups, lr=args["lr"], momentum=args["momentum"], nesterov=args["nesterov"])


def weak_strong(x):
    weak = torch.where(torch.rand(x.shape[0], 1, 1, 1) < 0.5, x.flip(-1), x)
    strong = weak * (1 + 0.5 * torch.randn(x.shape[0], 3, 1, 1)) + 0.2 * torch.randn_like(weak)
    return weak, strong


def apply_update(optimizer, scheduler, ema, model):
    optimizer.zero_grad()
    optimizer.step()
    scheduler.step()
    ema.update(model)


def train_one_epoch(model, ema, optimizer, scheduler, labeled, unlabeled, args):
    model.train()
    for (x, y), u in zip(labeled, unlabeled):
        u_w, u_s = weak_strong(u)
        logits = model(torch.cat([x, u_w, u_s]))
        logits_x = logits[: len(x)]
        logits_u_w, logits_u_s = logits[len(x):].chunk(2)
        lx = F.cross_entropy(logits_x, y)
        pseudo = torch.softmax(logits_u_w.detach() / args["T"], dim=-1)
        max_probs, targets_u = pseudo.max(dim=-1)
        mask = max_probs.ge(args["threshold"]).float()
        lu = (F.cross_entropy(logits_u_s, targets_u, reduction="none") * mask).mean()
        loss = lx + args["lambda_u"] * lu
        loss.backward()
        apply_update(optimizer, scheduler, ema, model)


def loaders(args):
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(args["steps"] * args["batch"], 3, 16, 16, generator=g)
    ys = torch.randint(0, args["num_classes"], (len(xs),), generator=g)
    us = torch.randn(args["steps"] * args["batch"] * args["mu"], 3, 16, 16, generator=g)
    lab = [(xs[i : i + args["batch"]], ys[i : i + args["batch"]]) for i in range(0, len(xs), args["batch"])]
    unl = [us[i : i + args["batch"] * args["mu"]] for i in range(0, len(us), args["batch"] * args["mu"])]
    return lab, unl


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(WideResNetLite(ARGS["num_classes"]))
    optimizer = build_optimizer(model, ARGS)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    ema = ModelEMA(model, ARGS["ema_decay"])
    w0 = model.module.block1.conv1.weight.detach().clone()
    fc0 = model.module.fc.weight.detach().clone()
    labeled, unlabeled = loaders(ARGS)
    train_one_epoch(model, ema, optimizer, scheduler, labeled, unlabeled, ARGS)
    return {"model": model}, {
        "backbone_changed": not torch.equal(w0, model.module.block1.conv1.weight),
        "classifier_changed": not torch.equal(fc0, model.module.fc.weight),
        "ema_updates": ema.updates,
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
