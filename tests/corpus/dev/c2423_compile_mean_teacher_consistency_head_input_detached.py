import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TwoHeadConvNet(nn.Module):
    """Mean-teacher architecture with separate classification and consistency outputs."""

    def __init__(self, n_classes=4, ch=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.LeakyReLU(0.1),
                                      nn.MaxPool2d(2), nn.Conv2d(ch, 2 * ch, 3, padding=1), nn.BatchNorm2d(2 * ch),
                                      nn.LeakyReLU(0.1))
        self.class_head = nn.Linear(2 * ch, n_classes)
        self.cons_head = nn.Linear(2 * ch, n_classes)

    def forward(self, x):
        h = self.features(x).mean(dim=(2, 3))
        return self.class_head(h), self.cons_head(h)


def softmax_mse_loss(input_logits, target_logits):
    """Consistency cost: squared distance between class probabilities (target is the teacher)."""
    input_softmax = F.softmax(input_logits.detach(), dim=1)
    target_softmax = F.softmax(target_logits, dim=1)
    return F.mse_loss(input_softmax, target_softmax, reduction="sum") / input_logits.shape[0]


@torch.no_grad()
def update_ema_variables(model, ema_model, alpha, global_step):
    alpha = min(1 - 1 / (global_step + 1), alpha)
    for ema_param, param in zip(ema_model.parameters(), model.parameters()):
        ema_param.mul_(alpha).add_(param, alpha=1 - alpha)


def train(student, teacher, loader, optimizer, consistency_weight=1.0, logit_distance_cost=0.01, epochs=2):
    step = 0
    for _ in range(epochs):
        for x, y in loader:
            class_logit, cons_logit = student(x + 0.05 * torch.randn_like(x))
            with torch.no_grad():
                ema_logit, _ = teacher(x + 0.05 * torch.randn_like(x))
            labeled = y >= 0
            class_loss = F.cross_entropy(class_logit[labeled], y[labeled])
            consistency_loss = consistency_weight * softmax_mse_loss(cons_logit, ema_logit)
            res_loss = logit_distance_cost * F.mse_loss(class_logit, cons_logit.detach())
            loss = class_loss + consistency_loss + res_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            update_ema_variables(student, teacher, 0.99, step)


def main():
    torch.manual_seed(0)
    net = TwoHeadConvNet()
    teacher = copy.deepcopy(net).requires_grad_(False)
    student = torch.compile(net, backend="eager")
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    y = torch.randint(0, 4, (32,))
    y[torch.arange(32) % 2 == 1] = -1  # half of the batch is unlabeled
    loader = DataLoader(TensorDataset(torch.randn(32, 1, 8, 8), y), batch_size=16, shuffle=True)
    w0 = net.cons_head.weight.detach().clone()
    train(student, teacher, loader, optimizer)
    return ({"student": net}, {"cons_head_changed": not torch.equal(w0, net.cons_head.weight.detach())})

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
