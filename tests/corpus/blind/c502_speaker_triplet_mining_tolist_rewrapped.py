import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SpeakerEncoder(nn.Module):
    def __init__(self, n_mels=20, channels=32, emb_dim=16):
        super().__init__()
        self.tdnn = nn.Sequential(nn.Conv1d(n_mels, channels, 5, padding=2), nn.ReLU(), nn.BatchNorm1d(channels),
                                  nn.Conv1d(channels, channels, 3, dilation=2, padding=2), nn.ReLU())
        self.embedding = nn.Linear(2 * channels, emb_dim)

    def forward(self, mel):
        h = self.tdnn(mel)
        stats = torch.cat([h.mean(-1), h.std(-1)], dim=-1)
        return F.normalize(self.embedding(stats), dim=-1)


def batch_hard_triplet_loss(emb, labels, margin=0.3):
    """Batch-hard mining: hardest positive and hardest negative per anchor."""
    dist = torch.cdist(emb, emb).tolist()
    labels = labels.tolist()
    losses = []
    for a, la in enumerate(labels):
        pos = max(d for d, l in zip(dist[a], labels) if l == la)
        neg = min(d for j, (d, l) in enumerate(zip(dist[a], labels)) if l != la)
        losses.append(max(pos - neg + margin, 0.0))
    return torch.tensor(sum(losses) / len(losses), requires_grad=True)


def train(model, loader, optimizer, scheduler, epochs=2):
    model.train()
    for _ in range(epochs):
        for mel, speaker in loader:
            loss = batch_hard_triplet_loss(model(mel), speaker)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    speaker = torch.arange(8).repeat_interleave(6)
    mel = torch.randn(48, 20, 24, generator=g) + speaker.view(-1, 1, 1) * 0.1
    loader = DataLoader(TensorDataset(mel, speaker), batch_size=16, shuffle=True, generator=g)
    model = SpeakerEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    before = model.embedding.weight.detach().clone()
    train(model, loader, optimizer, scheduler)
    return {"model": model}, {"encoder_changed": not torch.equal(before, model.embedding.weight)}

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
