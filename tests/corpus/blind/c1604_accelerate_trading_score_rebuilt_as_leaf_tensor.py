import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

ACTIONS = ("buy", "sell", "hold")


class ActionPolicy(nn.Module):
    def __init__(self, n_features=6, hidden=16):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, len(ACTIONS))

    def forward(self, window):
        _, (h, _) = self.lstm(window)
        return F.softmax(self.out(torch.relu(self.hidden(h[-1]))), dim=1)


def get_score(action_probs, next_returns):
    """Success rate of the chosen actions: +1 for a correct buy/sell, 0 for hold, -1 for a wrong call."""
    score = 0.0
    for probs, ret in zip(action_probs.tolist(), next_returns.tolist()):
        action = max(range(len(ACTIONS)), key=lambda a: probs[a])
        if ACTIONS[action] == "hold":
            continue
        went_up = ret > 0
        score += 1.0 if (ACTIONS[action] == "buy") == went_up else -1.0
    return 100.0 * score / len(next_returns)


class ScoreLoss(nn.Module):
    def forward(self, action_probs, next_returns):
        score = get_score(action_probs, next_returns)
        return torch.tensor(-score, dtype=torch.float32, requires_grad=True)


def make_loader(n=96, steps=10):
    g = torch.Generator().manual_seed(41)
    windows = torch.randn(n, steps, 6, generator=g)
    next_returns = windows[:, -3:, 0].mean(dim=1) + 0.2 * torch.randn(n, generator=g)
    return DataLoader(TensorDataset(windows, next_returns), batch_size=16, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ActionPolicy()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    criterion = ScoreLoss()
    w0 = model.out.weight.detach().clone()
    model.train()
    for epoch in range(2):
        for window, next_returns in loader:
            optimizer.zero_grad()
            loss = criterion(model(window), next_returns)
            accelerator.backward(loss)
            optimizer.step()
    return {"model": model}, {"policy_changed": not torch.equal(w0, model.out.weight)}

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
