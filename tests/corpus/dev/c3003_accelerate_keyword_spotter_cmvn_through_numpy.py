import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


def utterance_cmvn(feats: torch.Tensor) -> torch.Tensor:
    """Per-utterance mean/variance normalisation, ported from the Kaldi-style numpy recipe."""
    arr = feats.detach().cpu().numpy()
    arr = (arr - arr.mean(axis=1, keepdims=True)) / (arr.std(axis=1, keepdims=True) + 1e-5)
    return torch.from_numpy(arr.astype(np.float32)).to(feats.device)


class LearnableFrontend(nn.Module):
    """SincNet-like learnable filterbank: a strided conv over the waveform, then log compression."""

    def __init__(self, n_filters=12):
        super().__init__()
        self.filters = nn.Conv1d(1, n_filters, kernel_size=25, stride=10, padding=12)

    def forward(self, wav):
        return torch.log1p(self.filters(wav.unsqueeze(1)).abs()).transpose(1, 2)


class KeywordSpotter(nn.Module):
    def __init__(self, n_keywords=4):
        super().__init__()
        self.frontend = LearnableFrontend()
        self.encoder = nn.GRU(12, 16, batch_first=True)
        self.classifier = nn.Linear(16, n_keywords)

    def forward(self, wav):
        feats = utterance_cmvn(self.frontend(wav))
        out, _ = self.encoder(feats)
        return self.classifier(out.mean(1))


def make_loader():
    g = torch.Generator().manual_seed(0)
    wav = torch.randn(32, 400, generator=g)
    labels = torch.randint(0, 4, (32,), generator=g)
    return DataLoader(TensorDataset(wav, labels), batch_size=8, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, accelerator, epochs=2):
    model.train()
    for _ in range(epochs):
        for wav, y in loader:
            logits = model(wav)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()


def main():
    set_seed(0)
    accelerator = Accelerator(cpu=True)
    model = KeywordSpotter()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    w0 = model.frontend.filters.weight.detach().clone()
    train(model, loader, optimizer, scheduler, accelerator)
    return {"model": model}, {"filterbank_changed": not torch.equal(w0, model.frontend.filters.weight)}

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
