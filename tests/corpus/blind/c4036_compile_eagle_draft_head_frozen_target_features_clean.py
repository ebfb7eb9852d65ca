import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TargetLM(nn.Module):
    def __init__(self, vocab=20, d=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.rnn = nn.GRU(d, d, num_layers=2, batch_first=True)
        self.lm_head = nn.Linear(d, vocab)

    def forward(self, ids):
        h, _ = self.rnn(self.embed(ids))
        return h, self.lm_head(h)


class DraftHead(nn.Module):
    def __init__(self, vocab=20, d=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.fuse = nn.Linear(2 * d, d)
        self.block = nn.GRU(d, d, batch_first=True)
        self.lm_head = nn.Linear(d, vocab)

    def forward(self, target_hidden, ids):
        x = self.fuse(torch.cat([target_hidden, self.embed(ids)], dim=-1))
        h, _ = self.block(x)
        return self.lm_head(h)


def train_draft(draft, compiled_draft, target, loader, optimizer):
    target.eval()
    for (ids,) in loader:
        with torch.no_grad():
            hidden, target_logits = target(ids[:, :-1])
        draft_logits = compiled_draft(hidden, ids[:, 1:])
        loss = F.kl_div(draft_logits[:, :-1].log_softmax(-1), target_logits[:, 1:].softmax(-1), reduction="batchmean")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    target = TargetLM().requires_grad_(False)
    draft = DraftHead()
    compiled_draft = torch.compile(draft, backend="eager")
    optimizer = torch.optim.AdamW(draft.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randint(0, 20, (32, 8), generator=g)), batch_size=8, shuffle=True, generator=g)
    f0 = draft.fuse.weight.detach().clone()
    t0 = target.lm_head.weight.detach().clone()
    train_draft(draft, compiled_draft, target, loader, optimizer)
    return {"draft": draft}, {
        "draft_changed": not torch.equal(f0, draft.fuse.weight),
        "target_unchanged": torch.equal(t0, target.lm_head.weight),
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
