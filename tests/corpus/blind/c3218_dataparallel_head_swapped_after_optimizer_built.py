import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvClassifier(nn.Module):
    def __init__(self, n_cls=10, ch=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
        self.head = nn.Linear(ch * 4, n_cls)

    def forward(self, x):
        return self.head(self.stem(x).flatten(1))


class Trainer:
    def __init__(self, model, lr=0.05, momentum=0.9):
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=10)

    def fit(self, loader, epochs=1):
        self.model.train()
        for _ in range(epochs):
            for x, y in loader:
                self.optimizer.zero_grad()
                loss = F.cross_entropy(self.model(x), y)
                loss.backward()
                self.optimizer.step()
            self.scheduler.step()


def adapt_to_labels(model, n_new):
    in_f = model.module.head.in_features
    model.module.head = nn.Linear(in_f, n_new)
    return model


def few_shot_loader(n=16, n_cls=4):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, n_cls, (n,), generator=g)),
                      batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(ConvClassifier())
    trainer = Trainer(model)
    adapt_to_labels(model, n_new=4)
    head0 = model.module.head.weight.detach().clone()
    stem0 = model.module.stem[0].weight.detach().clone()
    trainer.fit(few_shot_loader())
    opt_ids = {id(p) for grp in trainer.optimizer.param_groups for p in grp["params"]}
    facts = {"head_in_optimizer": id(model.module.head.weight) in opt_ids,
             "head_changed": not torch.equal(head0, model.module.head.weight),
             "stem_changed": not torch.equal(stem0, model.module.stem[0].weight)}
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
