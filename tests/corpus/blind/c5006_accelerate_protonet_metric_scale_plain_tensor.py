import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed

CFG = {"n_classes": 10, "dim": 16, "n_way": 4, "k_shot": 3, "n_query": 4, "episodes": 12, "lr": 2e-3}


class ProtoNet(nn.Module):
    """Prototypical network with a learnable metric scale (as in TADAM)."""

    def __init__(self, dim):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 64), nn.ReLU(), nn.Linear(64, 32))
        self.log_scale = torch.zeros(1, requires_grad=True)

    def forward(self, support, support_y, query, n_way):
        z_s, z_q = self.encoder(support), self.encoder(query)
        protos = torch.stack([z_s[support_y == c].mean(0) for c in range(n_way)])
        return -self.log_scale.exp() * torch.cdist(z_q, protos) ** 2


class EpisodeSampler:
    def __init__(self, cfg, seed=0):
        self.cfg = cfg
        self.g = torch.Generator().manual_seed(seed)
        self.means = torch.randn(cfg["n_classes"], cfg["dim"], generator=self.g) * 2.0

    def __iter__(self):
        c = self.cfg
        for _ in range(c["episodes"]):
            classes = torch.randperm(c["n_classes"], generator=self.g)[: c["n_way"]]
            per = c["k_shot"] + c["n_query"]
            x = self.means[classes].repeat_interleave(per, 0) + torch.randn(c["n_way"] * per, c["dim"], generator=self.g)
            y = torch.arange(c["n_way"]).repeat_interleave(per)
            is_support = (torch.arange(len(y)) % per) < c["k_shot"]
            yield x[is_support], y[is_support], x[~is_support], y[~is_support]


def train_episodes(accelerator, model, optimizer, scheduler, sampler, cfg):
    model.train()
    for support, support_y, query, query_y in sampler:
        logits = model(support, support_y, query, cfg["n_way"])
        loss = F.cross_entropy(logits, query_y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ProtoNet(CFG["dim"])
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=CFG["episodes"])
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    s0, e0 = model.log_scale.detach().clone(), model.encoder[0].weight.detach().clone()
    train_episodes(accelerator, model, optimizer, scheduler, EpisodeSampler(CFG), CFG)
    return {"model": model}, {"metric_scale_changed": not torch.equal(s0, model.log_scale.detach()),
                              "encoder_changed": not torch.equal(e0, model.encoder[0].weight)}

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
