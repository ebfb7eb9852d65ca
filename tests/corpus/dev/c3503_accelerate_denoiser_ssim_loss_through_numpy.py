import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from numpy.lib.stride_tricks import sliding_window_view
from torch.utils.data import DataLoader, TensorDataset


def gaussian_window(size=5, sigma=1.5):
    ax = np.arange(size) - size // 2
    g = np.exp(-(ax ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g)
    return w / w.sum()


def structural_similarity(a, b, c1=0.01 ** 2, c2=0.03 ** 2):
    """Mean SSIM of two batches of single-channel images (numpy), computed the way skimage does."""
    w = gaussian_window()

    def filt(x):
        return (sliding_window_view(x, w.shape, axis=(-2, -1)) * w).sum(axis=(-2, -1))

    mu_a, mu_b = filt(a), filt(b)
    var_a = filt(a * a) - mu_a ** 2
    var_b = filt(b * b) - mu_b ** 2
    cov = filt(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


class ResidualDenoiser(nn.Module):
    def __init__(self, width=16, depth=3):
        super().__init__()
        self.head = nn.Conv2d(1, width, 3, padding=1)
        self.body = nn.Sequential(*[nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU()) for _ in range(depth)])
        self.tail = nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, noisy):
        return noisy - self.tail(self.body(F.relu(self.head(noisy))))


class SSIMLoss:
    def __call__(self, restored, target):
        r = restored.detach().cpu().numpy()[:, 0]
        t = target.cpu().numpy()[:, 0]
        return torch.tensor(1.0 - structural_similarity(r, t), requires_grad=True)


def make_loaders(n=24, bs=6):
    g = torch.Generator().manual_seed(1)
    clean = torch.rand(n, 1, 12, 12, generator=g)
    noisy = clean + 0.1 * torch.randn(n, 1, 12, 12, generator=g)
    ds = TensorDataset(noisy, clean)
    return DataLoader(ds, batch_size=bs, shuffle=True), DataLoader(ds, batch_size=bs)


def train_one_epoch(accelerator, model, loader, optimizer, scheduler, criterion):
    model.train()
    for noisy, clean in loader:
        with accelerator.accumulate(model):
            optimizer.zero_grad()
            loss = criterion(model(noisy), clean)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
    return loss.item()


@torch.no_grad()
def evaluate_psnr(model, loader):
    model.eval()
    mse = torch.stack([F.mse_loss(model(x), y) for x, y in loader]).mean()
    return float(10 * torch.log10(1.0 / mse))


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=1)
    model = ResidualDenoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20)
    train_loader, val_loader = make_loaders()
    model, optimizer, train_loader, scheduler = accelerator.prepare(model, optimizer, train_loader, scheduler)
    head0 = model.head.weight.detach().clone()
    for epoch in range(2):
        train_one_epoch(accelerator, model, train_loader, optimizer, scheduler, SSIMLoss())
        accelerator.print(f"epoch {epoch} psnr {evaluate_psnr(model, val_loader):.2f}")
    return {"model": model}, {"head_changed": not torch.equal(head0, model.head.weight)}

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
