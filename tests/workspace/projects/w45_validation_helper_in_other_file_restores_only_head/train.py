import torch
import torch.nn.functional as F

from evaluation import validate
from model import Recognizer


def main():
    torch.manual_seed(0)
    model = Recognizer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    for epoch in range(3):
        before = model.features[0].weight.detach().clone()
        for _ in range(4):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        validate(model, x, y)
    return {"model": model}, {"features_changed_in_last_epoch": not torch.equal(before, model.features[0].weight)}


# ---- ground-truth harness (not part of the reported pattern) ----
if __name__ == "__main__":
    import json as _json, os as _os, sys as _sys, time as _time, warnings as _warnings
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
    # project files this run imported (the entry runs with the project directory as cwd and on sys.path)
    _root = _os.path.abspath(_os.getcwd()) + _os.sep
    _proj = sorted(_k for _k, _m in list(_sys.modules.items()) if _m is not _sys.modules.get("__main__") and any(
        isinstance(_p, str) and _os.path.isabs(_p) and _os.path.abspath(_p).startswith(_root)
        for _p in ([_m.__file__] if getattr(_m, "__file__", None) else list(getattr(_m, "__path__", None) or []))))
    print(_json.dumps({
        "grad_none": sorted(k for k, v in _states.items() if v == "none"),
        "grad_zero": sorted(k for k, v in _states.items() if v == "zero"),
        "grad_ok": sorted(k for k, v in _states.items() if v == "ok"),
        "error": _err,
        "warnings": _warns,
        "facts": _facts,
        "main_seconds": _main_s,
        "project_modules": _proj,
        "torch": _torch.__version__,
    }, sort_keys=True))
