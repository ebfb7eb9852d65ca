import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TokenTagger(nn.Module):
    """Scores each token as an entity mention; trained from positive (dictionary) and unlabeled tokens."""

    def __init__(self, vocab=60, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.scorer = nn.Linear(2 * dim, 1)

    def forward(self, ids):
        h, _ = self.encoder(self.embed(ids))
        return self.scorer(h).squeeze(-1)


def nn_pu_risk(scores, is_pos, prior=0.2, beta=0.0, gamma=1.0):
    """Non-negative PU risk (Kiryo et al.) with the sigmoid loss."""
    pos, unl = scores[is_pos], scores[~is_pos]
    risk_pos = torch.sigmoid(-pos).mean().item()
    risk_pos_as_neg = torch.sigmoid(pos).mean().item()
    risk_unl_as_neg = torch.sigmoid(unl).mean().item()
    neg_risk = risk_unl_as_neg - prior * risk_pos_as_neg
    if neg_risk < -beta:
        risk = -gamma * neg_risk
    else:
        risk = prior * risk_pos + neg_risk
    return torch.tensor(risk, requires_grad=True)


def main():
    torch.manual_seed(0)
    ids = torch.randint(0, 60, (32, 7))
    is_pos = ids < 12  # dictionary matches
    loader = DataLoader(TensorDataset(ids, is_pos), batch_size=8, shuffle=True)
    model = TokenTagger()
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    w0 = model.scorer.weight.detach().clone()
    for _ in range(2):
        for batch_ids, batch_pos in loader:
            optimizer.zero_grad()
            risk = nn_pu_risk(compiled(batch_ids), batch_pos)
            risk.backward()
            optimizer.step()
    return {"model": model}, {"scorer_changed": not torch.equal(w0, model.scorer.weight)}

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
