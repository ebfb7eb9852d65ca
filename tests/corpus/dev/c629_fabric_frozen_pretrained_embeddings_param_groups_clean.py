import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class GRUClassifier(nn.Module):
    def __init__(self, pretrained_vectors, hidden=16, n_classes=3):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(pretrained_vectors, freeze=False, padding_idx=0)
        self.encoder = nn.GRU(pretrained_vectors.shape[1], hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Linear(2 * hidden, n_classes))

    def forward(self, ids):
        out, _ = self.encoder(self.embedding(ids))
        return self.classifier(out.max(dim=1).values)


def build_optimizer(model, base_lr=1e-3):
    model.embedding.weight.requires_grad_(False)
    groups = [
        {"params": model.encoder.parameters(), "lr": base_lr},
        {"params": model.classifier.parameters(), "lr": 10 * base_lr, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, weight_decay=0.01)


def train(fabric, model, optimizer, loader, epochs=1):
    model.train()
    for _ in range(epochs):
        for ids, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(ids), y)
            fabric.backward(loss)
            fabric.clip_gradients(model, optimizer, max_norm=1.0)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1, precision="32-true")
    fabric.seed_everything(0)
    vectors = torch.randn(50, 12, generator=torch.Generator().manual_seed(1))
    model = GRUClassifier(vectors)
    optimizer = build_optimizer(model)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 50, (48, 9), generator=g)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(ids, ids[:, 0] % 3), batch_size=16, shuffle=True, generator=g))
    enc_before = model.module.encoder.weight_ih_l0.detach().clone()
    train(fabric, model, optimizer, loader)
    return {"model": model.module}, {"encoder_changed": not torch.equal(enc_before, model.module.encoder.weight_ih_l0),
                                     "embedding_unchanged": torch.equal(vectors, model.module.embedding.weight)}

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
