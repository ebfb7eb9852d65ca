import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SharedEncoder(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(width, width, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class MultiTaskSegNet(nn.Module):
    """Segmentation head (labeled loss) and a foreground/background reconstruction head (unlabeled loss)."""

    def __init__(self, width=8):
        super().__init__()
        self.encoder = SharedEncoder(width)
        self.seg_head = nn.Conv2d(width, 1, 1)
        self.rec_head = nn.Conv2d(width, 2, 1)

    def forward(self, x):
        h = self.encoder(x)
        return self.seg_head(h).squeeze(1), self.rec_head(h)


def train_epoch(model, loader, optimizers):
    opt_labeled, opt_unlabeled = optimizers
    model.train()
    for image, mask in loader:
        for opt in optimizers:
            opt.zero_grad()
        seg, rec = model(image)
        loss_labeled = F.binary_cross_entropy_with_logits(seg, mask)
        fore, back = rec[:, 0], rec[:, 1]
        loss_unlabeled = F.mse_loss(fore * mask, image[:, 0] * mask) + F.mse_loss(back * (1 - mask), image[:, 0] * (1 - mask))
        loss_labeled.backward(retain_graph=True)
        opt_labeled.step()
        loss_unlabeled.backward()
        opt_unlabeled.step()


def make_loader(n=32, size=10):
    g = torch.Generator().manual_seed(53)
    image = torch.randn(n, 1, size, size, generator=g)
    mask = (image[:, 0] > 0.3).float()
    return DataLoader(TensorDataset(image, mask), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(MultiTaskSegNet())
    opt_labeled = torch.optim.Adam(model.parameters(), lr=1e-3)
    opt_unlabeled = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_epoch(model, make_loader(), (opt_labeled, opt_unlabeled))
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
