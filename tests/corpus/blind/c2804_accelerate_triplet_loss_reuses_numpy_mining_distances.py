import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SpeakerEncoder(nn.Module):
    def __init__(self, n_mels=10, hidden=32, emb_dim=8, n_speakers=4):
        super().__init__()
        self.frame_net = nn.Sequential(nn.Linear(n_mels, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.embedding = nn.Linear(hidden, emb_dim)
        self.speaker_head = nn.Linear(hidden, n_speakers)

    def forward(self, frames):
        pooled = self.frame_net(frames).mean(dim=1)
        return F.normalize(self.embedding(pooled), dim=-1), self.speaker_head(pooled)


class HardestTripletSelector:
    """Batch-hard mining on the CPU: for every anchor, the farthest positive and the closest negative."""

    def __init__(self, margin=0.3):
        self.margin = margin

    def pairwise_distances(self, emb):
        e = emb.detach().cpu().numpy()
        sq = (e ** 2).sum(axis=1)
        return np.maximum(sq[:, None] + sq[None, :] - 2 * e @ e.T, 0.0)

    def __call__(self, emb, labels):
        d = self.pairwise_distances(emb)
        y = labels.cpu().numpy()
        same = y[:, None] == y[None, :]
        d_ap = np.where(same, d, -np.inf).max(axis=1)
        d_an = np.where(~same, d, np.inf).min(axis=1)
        valid = np.isfinite(d_ap) & np.isfinite(d_an)
        return np.maximum(d_ap - d_an + self.margin, 0.0)[valid]


def triplet_loss(emb, labels, selector):
    per_anchor = selector(emb, labels)  # distances were already computed while mining
    return torch.from_numpy(per_anchor).float().mean() if per_anchor.size else emb.new_zeros(())


@torch.no_grad()
def verification_accuracy(model, loader, threshold=0.5):
    embs, labels = [], []
    for frames, y in loader:
        embs.append(model(frames)[0])
        labels.append(y)
    e, y = torch.cat(embs).numpy(), torch.cat(labels).numpy()
    same = y[:, None] == y[None, :]
    return float(((e @ e.T > threshold) == same).mean())


def make_data(n=48, t=5, speakers=4):
    g = torch.Generator().manual_seed(0)
    voices = torch.randn(speakers, 10, generator=g)
    labels = torch.arange(n) % speakers
    frames = voices[labels][:, None, :] + 0.5 * torch.randn(n, t, 10, generator=g)
    return TensorDataset(frames, labels)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    model = SpeakerEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=12)
    loader = DataLoader(make_data(), batch_size=8, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    selector = HardestTripletSelector(margin=0.3)
    emb_before = model.embedding.weight.detach().clone()
    head_before = model.speaker_head.weight.detach().clone()
    for epoch in range(2):
        for frames, labels in loader:
            emb, logits = model(frames)
            loss = F.cross_entropy(logits, labels) + triplet_loss(emb, labels, selector)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    accelerator.print("verification accuracy", verification_accuracy(model, loader))
    facts = {"embedding_changed": not torch.equal(emb_before, model.embedding.weight),
             "speaker_head_changed": not torch.equal(head_before, model.speaker_head.weight)}
    return {}, facts

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
