import torch
import torch.nn as nn
import torch.nn.functional as F

HCFG = {"clients": 5, "emb": 8, "in_dim": 6, "hidden": 32, "lr": 2e-3, "emb_lr": 1e-2, "rounds": 6,
        "with_bias_head": True}


class PersonalizationHypernet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.in_dim = cfg["in_dim"]
        self.client_emb = nn.Embedding(cfg["clients"], cfg["emb"])
        self.trunk = nn.Sequential(nn.Linear(cfg["emb"], cfg["hidden"]), nn.ReLU(), nn.Linear(cfg["hidden"], cfg["hidden"]))
        self.w_head = nn.Linear(cfg["hidden"], cfg["in_dim"])
        self.b_head = None

    def forward(self, client_ids, x):
        z = F.relu(self.trunk(self.client_emb(client_ids)))
        w = self.w_head(z)
        out = (w * x).sum(-1)
        if self.b_head is not None:
            out = out + self.b_head(z).squeeze(-1)
        return out


def add_bias_head(model, cfg):
    model.b_head = nn.Linear(cfg["hidden"], 1)
    return model


def make_model(cfg):
    net = PersonalizationHypernet(cfg)
    if cfg["with_bias_head"]:
        net = add_bias_head(net, cfg)
    return nn.DataParallel(net)


def build_optimizer(model, cfg):
    net = model.module if isinstance(model, nn.DataParallel) else model
    groups = {"emb": [], "trunk": [], "heads": []}
    for name, p in net.named_parameters():
        if name.startswith("client_emb."):
            groups["emb"].append(p)
        elif name.startswith("trunk."):
            groups["trunk"].append(p)
        else:
            groups["heads"].append(p)
    return torch.optim.Adam([
        {"params": groups["emb"], "lr": cfg["emb_lr"]},
        {"params": groups["trunk"], "lr": cfg["lr"]},
        {"params": groups["heads"], "lr": cfg["lr"]},
    ])


def client_data(cfg, n=20):
    g = torch.Generator().manual_seed(0)
    xs, ys, ids = [], [], []
    for c in range(cfg["clients"]):
        w = torch.randn(cfg["in_dim"], generator=g)
        x = torch.randn(n, cfg["in_dim"], generator=g)
        xs.append(x)
        ys.append(x @ w + 0.5 * c)
        ids.append(torch.full((n,), c))
    return torch.cat(ids), torch.cat(xs), torch.cat(ys)


def train_round(model, optimizer, ids, x, y):
    model.train()
    loss = F.mse_loss(model(ids, x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def per_client_error(model, ids, x, y, clients):
    model.eval()
    pred = model(ids, x)
    return [F.mse_loss(pred[ids == c], y[ids == c]).item() for c in range(clients)]


def main():
    torch.manual_seed(0)
    model = make_model(HCFG)
    optimizer = build_optimizer(model, HCFG)
    emb0 = model.module.client_emb.weight.detach().clone()
    head0 = model.module.b_head.weight.detach().clone()
    ids, x, y = client_data(HCFG)
    for r in range(HCFG["rounds"]):
        train_round(model, optimizer, ids, x, y)
    per_client_error(model, ids, x, y, HCFG["clients"])
    return {"model": model}, {
        "client_emb_changed": not torch.equal(emb0, model.module.client_emb.weight),
        "heads_changed": not torch.equal(head0, model.module.b_head.weight),
        "groups": len(optimizer.param_groups),
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
