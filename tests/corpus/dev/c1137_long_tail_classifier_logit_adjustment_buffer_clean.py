import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LogitAdjustedClassifier(nn.Module):
    """Long-tail classification with logit adjustment (Menon et al.): logits + tau * log(prior) during training."""

    def __init__(self, class_counts, in_dim=12, dim=32, tau=1.0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())
        self.heads = nn.ModuleDict({"coarse": nn.Linear(dim, 2), "fine": nn.Linear(dim, len(class_counts))})
        prior = torch.tensor(class_counts, dtype=torch.float) / sum(class_counts)
        self.register_buffer("log_prior", prior.log())
        self.tau = nn.Parameter(torch.tensor(float(tau)))

    def forward(self, x, adjust=True):
        h = self.encoder(x)
        fine = self.heads["fine"](h)
        if adjust:
            fine = fine + self.tau * self.log_prior
        return fine, self.heads["coarse"](h)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            fine, coarse = model(x)
            loss = F.cross_entropy(fine, y) + 0.5 * F.cross_entropy(coarse, (y >= 2).long())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    counts = [40, 20, 8, 4]
    y = torch.cat([torch.full((c,), i) for i, c in enumerate(counts)])
    x = torch.randn(len(y), 12) + F.one_hot(y, 12).float() * 1.5
    loader = DataLoader(TensorDataset(x, y), batch_size=18, shuffle=True)
    model = LogitAdjustedClassifier(counts)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train(model, loader, optimizer)
    facts = {"log_prior_is_buffer": "log_prior" in dict(model.named_buffers()),
             "n_param_tensors_in_optimizer": sum(len(g["params"]) for g in optimizer.param_groups)}
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
