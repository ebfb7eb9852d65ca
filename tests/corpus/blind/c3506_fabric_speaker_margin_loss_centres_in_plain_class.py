import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class AdditiveAngularMargin:
    """ArcFace / AM-softmax style classification margin with its own class-centre matrix."""

    def __init__(self, emb_dim, n_speakers, s=16.0, m=0.3):
        self.fc = nn.Linear(emb_dim, n_speakers, bias=False)
        self.s, self.m = s, m

    def __call__(self, emb, labels):
        cos = F.linear(F.normalize(emb, dim=-1), F.normalize(self.fc.weight, dim=-1))
        margin = F.one_hot(labels, cos.shape[1]) * self.m
        return F.cross_entropy(self.s * (cos - margin), labels)


class SpeakerEncoder(nn.Module):
    def __init__(self, n_mels=20, channels=24, emb_dim=16, n_speakers=6):
        super().__init__()
        self.frames = nn.Sequential(nn.Conv1d(n_mels, channels, 3, padding=1), nn.ReLU(),
                                    nn.Conv1d(channels, channels, 3, padding=1), nn.ReLU())
        self.embedding = nn.Linear(2 * channels, emb_dim)
        self.margin_loss = AdditiveAngularMargin(emb_dim, n_speakers)

    def forward(self, mels):
        h = self.frames(mels)
        stats = torch.cat([h.mean(-1), h.std(-1)], dim=1)
        return self.embedding(stats)


def make_loader(n=36, bs=6):
    g = torch.Generator().manual_seed(23)
    labels = torch.randint(0, 6, (n,), generator=g)
    mels = torch.randn(n, 20, 30, generator=g) + labels[:, None, None].float() * 0.3
    return DataLoader(TensorDataset(mels, labels), batch_size=bs, shuffle=True)


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    model = SpeakerEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(make_loader())
    centres0 = model.module.margin_loss.fc.weight.detach().clone()
    emb0 = model.module.embedding.weight.detach().clone()
    for _ in range(2):
        for mels, labels in loader:
            optimizer.zero_grad()
            loss = model.module.margin_loss(model(mels), labels)
            fabric.backward(loss)
            optimizer.step()
            scheduler.step()
    m = model.module
    return {"encoder": m, "centres": m.margin_loss.fc.weight}, {
        "centres_changed": not torch.equal(centres0, m.margin_loss.fc.weight),
        "embedding_changed": not torch.equal(emb0, m.embedding.weight),
        "n_registered": len(list(m.parameters())),
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
