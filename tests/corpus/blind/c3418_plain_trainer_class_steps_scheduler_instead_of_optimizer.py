import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DepthNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.dec = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        return F.softplus(self.dec(self.enc(x)))


def smoothness(depth, img):
    dx = (depth[..., :, 1:] - depth[..., :, :-1]).abs() * torch.exp(-(img[..., :, 1:] - img[..., :, :-1]).abs().mean(1, keepdim=True))
    dy = (depth[..., 1:, :] - depth[..., :-1, :]).abs() * torch.exp(-(img[..., 1:, :] - img[..., :-1, :]).abs().mean(1, keepdim=True))
    return dx.mean() + dy.mean()


class Trainer:
    def __init__(self, model, lr=1e-3, scheduler="step", smooth_weight=0.1):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
        self.scheduler = (torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=2, gamma=0.5)
                          if scheduler == "step" else None)
        self.smooth_weight = smooth_weight
        self.history = []

    def loss(self, img, gt):
        depth = self.model(img)
        return F.l1_loss(depth, gt) + self.smooth_weight * smoothness(depth, img)

    def update(self):
        if self.scheduler is not None:
            self.scheduler.step()
        else:
            self.optimizer.step()

    def fit(self, loader, epochs=2):
        self.model.train()
        for _ in range(epochs):
            for img, gt in loader:
                self.optimizer.zero_grad()
                loss = self.loss(img, gt)
                loss.backward()
                self.update()
                self.history.append(loss.item())
        return self.history


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(29)
    img = torch.rand(16, 3, 8, 8, generator=g)
    gt = img.mean(1, keepdim=True) * 5 + 0.5
    model = DepthNet()
    w0 = model.dec.weight.detach().clone()
    trainer = Trainer(model)
    trainer.fit(DataLoader(TensorDataset(img, gt), batch_size=4, shuffle=True))
    return {"model": model}, {"decoder_changed": not torch.equal(w0, model.dec.weight)}

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
