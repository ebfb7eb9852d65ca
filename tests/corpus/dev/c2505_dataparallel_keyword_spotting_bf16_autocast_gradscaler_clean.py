import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LogMel(nn.Module):
    def __init__(self, n_fft=64, n_mels=16):
        super().__init__()
        self.register_buffer("window", torch.hann_window(n_fft))
        self.register_buffer("fbank", torch.rand(n_fft // 2 + 1, n_mels))
        self.n_fft = n_fft

    def forward(self, wav):
        spec = torch.stft(wav, self.n_fft, hop_length=32, window=self.window, return_complex=True).abs() ** 2
        return torch.log1p(spec.transpose(1, 2) @ self.fbank)


class KWSNet(nn.Module):
    def __init__(self, n_mels=16, n_words=6):
        super().__init__()
        self.frontend = LogMel(n_mels=n_mels)
        self.convs = nn.Sequential(nn.Conv1d(n_mels, 32, 3, padding=1), nn.BatchNorm1d(32), nn.ReLU(),
                                   nn.Conv1d(32, 32, 3, padding=1), nn.ReLU())
        self.classifier = nn.Linear(32, n_words)

    def forward(self, wav):
        feats = self.frontend(wav).transpose(1, 2)
        return self.classifier(self.convs(feats).mean(-1))


def train_epoch(model, loader, optimizer, scaler, scheduler):
    model.train()
    for wav, label in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            logits = model(wav)
        loss = F.cross_entropy(logits.float(), label)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
    return loss.item()


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct = sum((model(w).argmax(-1) == y).sum().item() for w, y in loader)
    return correct / len(loader.dataset)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(KWSNet())
    optimizer = torch.optim.AdamW(model.module.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=8)
    scaler = torch.amp.GradScaler("cpu")
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(32, 512, generator=g), torch.randint(0, 6, (32,), generator=g))
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    before = model.module.classifier.weight.detach().clone()
    for _ in range(2):
        train_epoch(model, loader, optimizer, scaler, scheduler)
    evaluate(model, loader)
    model.zero_grad()
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        out = model(ds.tensors[0][:8])
    F.cross_entropy(out.float(), ds.tensors[1][:8]).backward()
    changed = not torch.equal(before, model.module.classifier.weight)
    return {"model": model.module}, {"classifier_changed": changed}

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
