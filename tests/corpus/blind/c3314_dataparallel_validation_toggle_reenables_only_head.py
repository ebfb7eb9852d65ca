import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CRNN(nn.Module):
    """Text-line recognizer: conv feature extractor + BiLSTM + per-column classifier (CTC)."""

    def __init__(self, n_chars=8, width=16, hidden=24):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.MaxPool2d((2, 1)), nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.rnn = nn.LSTM(width * 4, hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, n_chars + 1)

    def forward(self, img):
        f = self.features(img)
        b, c, h, w = f.shape
        seq, _ = self.rnn(f.permute(0, 3, 1, 2).reshape(b, w, c * h))
        return self.head(seq).log_softmax(-1)


def set_trainable(model, flag):
    for p in model.parameters():
        p.requires_grad = flag


def validate(model, loader, ctc):
    set_trainable(model, False)
    model.eval()
    total = 0.0
    for img, targets, tgt_len in loader:
        logp = model(img).transpose(0, 1)
        in_len = torch.full((img.size(0),), logp.size(0), dtype=torch.long)
        total += ctc(logp, targets, in_len, tgt_len).item()
    set_trainable(model.module.head, True)
    model.train()
    return total / len(loader)


def text_lines(n=24, n_chars=8, width=12, length=4):
    g = torch.Generator().manual_seed(0)
    targets = torch.randint(1, n_chars + 1, (n, length), generator=g)
    img = torch.zeros(n, 1, 8, width)
    for i in range(n):
        for j, ch in enumerate(targets[i]):
            img[i, 0, int(ch) % 8, j * 3:(j * 3) + 2] = 1.0
    return TensorDataset(img + 0.05 * torch.randn(img.shape, generator=g), targets, torch.full((n,), length))


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(CRNN())
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(text_lines(), batch_size=8, shuffle=True)
    snapshots = []
    for epoch in range(2):
        snapshots.append((model.module.features[0].weight.detach().clone(), model.module.head.weight.detach().clone()))
        for img, targets, tgt_len in loader:
            logp = model(img).transpose(0, 1)
            in_len = torch.full((img.size(0),), logp.size(0), dtype=torch.long)
            loss = ctc(logp, targets, in_len, tgt_len)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        validate(model, loader, ctc)
    feat1, head1 = snapshots[1]
    facts = {"features_changed_in_epoch_2": not torch.equal(feat1, model.module.features[0].weight),
             "head_changed_in_epoch_2": not torch.equal(head1, model.module.head.weight)}
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
