import torch
import torch.nn as nn
import torch.nn.functional as F


class ForecastNet(nn.Module):
    def __init__(self, d=16, horizon=4):
        super().__init__()
        self.value_embedding = nn.Linear(1, d)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, 2, 32, batch_first=True, dropout=0.0), 1)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, horizon)

    def forward(self, past):
        h = self.encoder(self.value_embedding(past.unsqueeze(-1)))
        return self.head(self.norm(h[:, -1]))


def build_optimizer(model, cfg):
    """Decay / no-decay split; names are read from the wrapped network so the DataParallel prefix does not matter."""
    net = model.module if isinstance(model, nn.DataParallel) else model
    decay, no_decay = [], []
    for name, p in net.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
    assert len(decay) + len(no_decay) == len(list(net.parameters()))
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg["wd"]}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg["lr"])


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    net = ForecastNet()
    model = nn.DataParallel(net)
    optimizer = build_optimizer(model, {"lr": 1e-3, "wd": 0.01})
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=6)
    emb0, norm0 = net.value_embedding.weight.detach().clone(), net.norm.weight.detach().clone()
    for _ in range(6):
        phase = torch.rand(16, 1, generator=g) * 6.28
        s = torch.sin(torch.arange(20) * 0.3 + phase)
        loss = F.mse_loss(model(s[:, :16]), s[:, 16:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return {"net": net}, {"embedding_changed": not torch.equal(emb0, net.value_embedding.weight),
                          "norm_changed": not torch.equal(norm0, net.norm.weight)}

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
