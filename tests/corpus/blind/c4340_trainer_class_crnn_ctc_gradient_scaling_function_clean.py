import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class ScaleGrad(torch.autograd.Function):
    """Identity in the forward pass; multiplies the incoming gradient by `scale` (slower-learning backbone)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.scale, None


class CRNN(nn.Module):
    def __init__(self, n_classes=11, hidden=24, backbone_grad_scale=0.1):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)))
        self.rnn = nn.LSTM(32 * 4, hidden, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(2 * hidden, n_classes)
        self.backbone_grad_scale = backbone_grad_scale

    def forward(self, images):
        f = self.backbone(images)
        f = ScaleGrad.apply(f, self.backbone_grad_scale)
        b, c, h, w = f.shape
        seq, _ = self.rnn(f.permute(0, 3, 1, 2).reshape(b, w, c * h))
        return self.classifier(seq).log_softmax(-1)


class DigitLines(Dataset):
    def __init__(self, n=32, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.items = []
        for _ in range(n):
            length = int(torch.randint(1, 4, (1,), generator=g))
            digits = torch.randint(1, 11, (length,), generator=g)
            img = torch.rand(1, 16, 24, generator=g) * 0.1
            for k, dgt in enumerate(digits):
                img[0, 3:13, 2 + 7 * k: 6 + 7 * k] += dgt / 10.0
            self.items.append((img, digits))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, k):
        return self.items[k]


def collate(batch):
    images = torch.stack([b[0] for b in batch])
    targets = torch.cat([b[1] for b in batch])
    lengths = torch.tensor([len(b[1]) for b in batch])
    return images, targets, lengths


class CTCTrainer:
    def __init__(self, model, lr, clip):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.ctc = nn.CTCLoss(blank=0, zero_infinity=True)
        self.clip = clip
        self.history = []

    def step(self, images, targets, lengths):
        log_probs = self.model(images)
        input_lengths = torch.full((images.shape[0],), log_probs.shape[1], dtype=torch.long)
        loss = self.ctc(log_probs.transpose(0, 1), targets, input_lengths, lengths)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def greedy_decode(self, images):
        best = self.model(images).argmax(-1)
        return [[int(c) for k, c in enumerate(row) if c != 0 and (k == 0 or c != row[k - 1])] for row in best]

    def fit(self, loader, epochs):
        for _ in range(epochs):
            self.model.train()
            for images, targets, lengths in loader:
                self.history.append(self.step(images, targets, lengths))
        return self


def main():
    torch.manual_seed(0)
    model = CRNN()
    conv0 = model.backbone[0].weight.detach().clone()
    loader = DataLoader(DigitLines(), batch_size=8, shuffle=True, collate_fn=collate)
    trainer = CTCTrainer(model, lr=3e-3, clip=5.0).fit(loader, epochs=2)
    model.eval()
    trainer.greedy_decode(next(iter(loader))[0])
    return {"model": model}, {"backbone_changed": not torch.equal(conv0, model.backbone[0].weight)}

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
