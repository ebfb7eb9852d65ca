import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

NO_LABEL = -1


def create_model(ema=False):
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
    if ema:
        for param in model.parameters():
            param.detach_()
    return model


def update_ema_variables(model, ema_model, alpha, global_step):
    alpha = min(1 - 1 / (global_step + 1), alpha)
    for ema_param, param in zip(ema_model.parameters(), model.parameters()):
        ema_param.data.mul_(alpha).add_(param.data, alpha=1 - alpha)


def softmax_mse_loss(input_logits, target_logits):
    return F.mse_loss(F.softmax(input_logits, dim=1), F.softmax(target_logits, dim=1), reduction="sum") / input_logits.size(1)


def add_noise(x, generator):
    return x + 0.1 * torch.randn(x.shape, generator=generator)


def make_loader(n=96):
    g = torch.Generator().manual_seed(61)
    x = torch.randn(n, 10, generator=g)
    y = x[:, :3].argmax(dim=1)
    y[torch.rand(n, generator=g) < 0.6] = NO_LABEL
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model, ema_model = create_model(), create_model(ema=True)
    ema_model.load_state_dict(model.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    g = torch.Generator().manual_seed(1)
    w0, e0 = model.module[0].weight.detach().clone(), ema_model[0].weight.detach().clone()
    global_step = 0
    for epoch in range(2):
        for x, y in loader:
            model_out = model(add_noise(x, g))
            ema_out = ema_model(add_noise(x, g)).detach()
            labeled = y != NO_LABEL
            class_loss = F.cross_entropy(model_out[labeled], y[labeled], reduction="sum") / x.size(0)
            consistency_loss = softmax_mse_loss(model_out, ema_out) / x.size(0)
            loss = class_loss + 10.0 * consistency_loss
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            global_step += 1
            update_ema_variables(model.module, ema_model, 0.95, global_step)
    return ({"model": model.module},
            {"student_changed": not torch.equal(w0, model.module[0].weight),
             "teacher_changed": not torch.equal(e0, ema_model[0].weight),
             "teacher_requires_grad": any(p.requires_grad for p in ema_model.parameters())})

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
