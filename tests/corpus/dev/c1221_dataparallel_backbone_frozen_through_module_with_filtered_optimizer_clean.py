import torch
import torch.nn as nn
import torch.nn.functional as F


class AudioTagger(nn.Module):
    def __init__(self, n_mels=16, n_tags=6):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv1d(n_mels, 32, 3, padding=1), nn.BatchNorm1d(32), nn.ReLU(),
                                      nn.Conv1d(32, 32, 3, padding=1), nn.BatchNorm1d(32), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, n_tags))

    def forward(self, spec):
        return self.head(self.backbone(spec).mean(-1))


def freeze_backbone(model):
    for p in model.module.backbone.parameters():
        p.requires_grad = False
    model.module.backbone.eval()


def build_optimizer(model, lr=1e-2):
    return torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=lr)


def train(model, batches, optimizer, epochs=2):
    for _ in range(epochs):
        model.module.head.train()
        for spec, tags in batches:
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(spec), tags)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(AudioTagger())
    freeze_backbone(model)
    optimizer = build_optimizer(model)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(8, 16, 20, generator=g), (torch.rand(8, 6, generator=g) > 0.7).float()) for _ in range(4)]
    bb0 = model.module.backbone[0].weight.detach().clone()
    head0 = model.module.head[0].weight.detach().clone()
    train(model, batches, optimizer)
    facts = {
        "backbone_changed": not torch.equal(bb0, model.module.backbone[0].weight),
        "head_changed": not torch.equal(head0, model.module.head[0].weight),
        "n_optimized_tensors": sum(len(g["params"]) for g in optimizer.param_groups),
    }
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
