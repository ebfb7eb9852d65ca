import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

CONFIG = {"phases": {"fit": "training", "eval": "validation"}, "lr": 1e-3, "epochs": 1}


class ResponseSelector(nn.Module):
    def __init__(self, vocab=30, dim=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.ctx_enc = nn.Linear(dim, dim)
        self.rsp_enc = nn.Linear(dim, dim)

    def forward(self, ctx, rsp):
        c = torch.tanh(self.ctx_enc(self.embed(ctx)))
        r = torch.tanh(self.rsp_enc(self.embed(rsp)))
        return c @ r.T


def run_epoch(model, loader, accelerator, optimizer=None, phase="train"):
    is_train = optimizer is not None
    model.train(is_train)
    total = 0.0
    for ctx, rsp in loader:
        with torch.set_grad_enabled(phase == "train"):
            scores = model(ctx, rsp)
            loss = F.cross_entropy(scores, torch.arange(ctx.size(0)))
        if is_train:
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
        total += loss.item()
    return total / len(loader)


def dialogues(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randint(0, 30, (n, 6), generator=g), torch.randint(0, 30, (n, 4), generator=g)),
                      batch_size=4, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ResponseSelector()
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG["lr"])
    model, optimizer, train_dl, val_dl = accelerator.prepare(model, optimizer, dialogues(), dialogues(8, 1))
    for _ in range(CONFIG["epochs"]):
        run_epoch(model, train_dl, accelerator, optimizer, phase=CONFIG["phases"]["fit"])
        run_epoch(model, val_dl, accelerator, phase=CONFIG["phases"]["eval"])
    return {"model": model}

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
