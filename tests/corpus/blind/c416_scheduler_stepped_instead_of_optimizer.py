import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DepthNet(nn.Module):
    """Tiny encoder-decoder regressing a dense map from an image."""

    def __init__(self, ch=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, ch, 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1), nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose2d(2 * ch, ch, 4, stride=2, padding=1), nn.ReLU(),
                                 nn.ConvTranspose2d(ch, 1, 4, stride=2, padding=1))

    def forward(self, x):
        return F.softplus(self.dec(self.enc(x)))


def build_optim(model, args):
    optimizer = torch.optim.Adam(model.parameters(), lr=args["lr"], betas=(0.9, 0.999))
    scheduler = None
    if args.get("scheduler") == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return optimizer, scheduler


def train_epoch(model, loader, optimizer, scheduler=None):
    total = 0.0
    for img, depth in loader:
        pred = model(img)
        loss = F.l1_loss(pred, depth) + 0.1 * (pred.log() - depth.log()).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        if scheduler is not None:
            scheduler.step()
        else:
            optimizer.step()
        total += loss.item()
    return total


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    img = torch.rand(24, 3, 16, 16, generator=g)
    depth = img.mean(1, keepdim=True) + 0.5
    loader = DataLoader(TensorDataset(img, depth), batch_size=8, shuffle=True, generator=g)
    model = DepthNet()
    optimizer, scheduler = build_optim(model, {"lr": 2e-4, "scheduler": "step"})
    enc_before = model.enc[0].weight.detach().clone()
    for epoch in range(2):
        train_epoch(model, loader, optimizer, scheduler)
    facts = {"encoder_changed": not torch.equal(enc_before, model.enc[0].weight.detach())}
    return {"model": model}, facts

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
