import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class NaiveBayesLabelModel(nn.Module):
    """Weak-supervision label model: per-labeling-function accuracies and a class prior."""

    def __init__(self, n_lfs=5, n_classes=3):
        super().__init__()
        self.accuracy_logits = nn.Parameter(torch.full((n_lfs,), 1.0))
        self.class_logits = nn.Parameter(torch.zeros(n_classes))
        self.n_classes = n_classes

    def forward(self, votes):  # votes: (B, n_lfs) in {-1 (abstain), 0..C-1}
        acc = torch.sigmoid(self.accuracy_logits)
        wrong = (1 - acc) / (self.n_classes - 1)
        fired = votes.ge(0).float()
        ll = []
        for c in range(self.n_classes):
            agree = votes.eq(c).float()
            ll.append((fired * (agree * acc.log() + (1 - agree) * wrong.log())).sum(1))
        return torch.stack(ll, dim=1) + F.log_softmax(self.class_logits, dim=0)


def marginal_nll(log_joint):
    return -torch.logsumexp(log_joint, dim=1).mean()


def train_label_model(model, loader, optimizer, epochs=3):
    history = []
    for epoch in range(epochs):
        running_loss = 0.0
        for (votes,) in loader:
            optimizer.zero_grad()
            loss = marginal_nll(model(votes))
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        history.append(running_loss / len(loader))
    return history


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(36)
    truth = torch.randint(0, 3, (48,), generator=g)
    votes = truth[:, None].repeat(1, 5)
    noise = torch.rand(48, 5, generator=g)
    votes[noise < 0.2] = torch.randint(0, 3, (int((noise < 0.2).sum()),), generator=g)
    votes[noise > 0.85] = -1
    loader = DataLoader(TensorDataset(votes), batch_size=16, shuffle=True)
    model = nn.DataParallel(NaiveBayesLabelModel())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    acc0 = model.module.accuracy_logits.detach().clone()
    history = train_label_model(model, loader, optimizer)
    return {"label_model": model.module}, {
        "accuracies_changed": not torch.equal(acc0, model.module.accuracy_logits),
        "history_is_floats": all(isinstance(h, float) for h in history),
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
