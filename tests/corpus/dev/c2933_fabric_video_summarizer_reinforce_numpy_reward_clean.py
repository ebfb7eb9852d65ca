import numpy as np
import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.distributions import Bernoulli


class DSN(nn.Module):
    """Deep summarization network: BiLSTM over frame features -> per-frame selection probability."""

    def __init__(self, feat_dim=8, hidden=8):
        super().__init__()
        self.proj = nn.Linear(feat_dim, hidden)
        self.rnn = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 1)

    def forward(self, feats):
        h, _ = self.rnn(torch.tanh(self.proj(feats)))
        return torch.sigmoid(self.head(h)).squeeze(-1)


def diversity_representativeness_reward(features, picks):
    """Reward of a summary, computed in NumPy as in the original vsumm-reinforce code."""
    if picks.sum() < 2:
        return 0.0
    x = features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-8)
    sel = x[picks.astype(bool)]
    dissim = 1.0 - sel @ sel.T
    r_div = dissim.sum() / (len(sel) * (len(sel) - 1))
    dist = ((features[:, None, :] - features[picks.astype(bool)][None]) ** 2).sum(-1)
    r_rep = np.exp(-dist.min(axis=1).mean())
    return float(r_div + r_rep)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    videos = [torch.randn(1, 10, 8, generator=g) for _ in range(4)]
    model = DSN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
    model, optimizer = fabric.setup(model, optimizer)
    baselines = {i: 0.0 for i in range(len(videos))}
    head_before = model.head.weight.detach().clone()
    for epoch in range(3):
        for i, feats in enumerate(videos):
            probs = model(feats)
            dist = Bernoulli(probs)
            rewards, log_probs = [], []
            for _ in range(3):
                actions = dist.sample()
                log_probs.append(dist.log_prob(actions).sum())
                rewards.append(diversity_representativeness_reward(feats[0].cpu().numpy(), actions[0].cpu().numpy()))
            advantage = torch.tensor(rewards) - baselines[i]
            loss = -(torch.stack(log_probs) * advantage).mean() + 0.01 * (probs.mean() - 0.5) ** 2
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            baselines[i] = 0.9 * baselines[i] + 0.1 * float(np.mean(rewards))
    facts = {"head_changed": not torch.equal(head_before, model.head.weight)}
    return {"model": model.module}, facts

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
