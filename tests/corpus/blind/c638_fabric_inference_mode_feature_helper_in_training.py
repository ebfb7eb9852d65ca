import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class AudioBackbone(nn.Module):
    def __init__(self, n_mels=16, hidden=32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, hidden, 3, padding=1), nn.ReLU(), nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU())

    def forward(self, mel):
        return self.conv(mel).mean(dim=-1)


class KeywordSpotter(nn.Module):
    def __init__(self, n_keywords=6, hidden=32):
        super().__init__()
        self.backbone = AudioBackbone(hidden=hidden)
        self.classifier = nn.Linear(hidden, n_keywords)


@torch.inference_mode()
def extract_embeddings(backbone, mel):
    """Shared with the offline embedding export script."""
    return backbone(mel)


def train(fabric, model, optimizer, loader, epochs=1):
    model.train()
    for _ in range(epochs):
        for mel, y in loader:
            optimizer.zero_grad()
            emb = extract_embeddings(model.backbone, mel)
            loss = F.cross_entropy(model.classifier(emb), y)
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = KeywordSpotter()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(32, 16, 20, generator=g), torch.randint(0, 6, (32,), generator=g))
    train(fabric, model, optimizer, fabric.setup_dataloaders(DataLoader(data, batch_size=16)))
    return {"model": model.module}

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
