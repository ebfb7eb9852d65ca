import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def squash(s, dim=-1, eps=1e-8):
    sq = (s ** 2).sum(dim, keepdim=True)
    return sq / (1 + sq) * s / torch.sqrt(sq + eps)


class PrimaryCaps(nn.Module):
    def __init__(self, in_ch=8, caps=8, dim=4):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, caps * dim, 3, stride=2, padding=1)
        self.dim = dim

    def forward(self, x):
        out = self.conv(x)
        return squash(out.view(x.size(0), -1, self.dim))


class ClassCaps(nn.Module):
    def __init__(self, in_caps, in_dim=4, n_classes=4, out_dim=8, iterations=3):
        super().__init__()
        self.W = nn.Parameter(0.05 * torch.randn(1, in_caps, n_classes, out_dim, in_dim))
        self.iterations = iterations

    def forward(self, u):
        u_hat = (self.W @ u[:, :, None, :, None]).squeeze(-1)
        u_hat_stopped = u_hat.detach()
        b = torch.zeros(u_hat.shape[:3])
        for i in range(self.iterations):
            c = F.softmax(b, dim=2)
            v = squash((c.unsqueeze(-1) * u_hat_stopped).sum(dim=1))
            if i < self.iterations - 1:
                b = b + (u_hat_stopped * v.unsqueeze(1)).sum(-1)
        return v


class CapsNet(nn.Module):
    def __init__(self, n_classes=4, img=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.primary = PrimaryCaps()
        self.classes = ClassCaps(in_caps=8 * (img // 2) ** 2, n_classes=n_classes)
        self.decoder = nn.Sequential(nn.Linear(n_classes * 8, 64), nn.ReLU(), nn.Linear(64, img * img), nn.Sigmoid())

    def forward(self, x, y):
        v = self.classes(self.primary(self.stem(x)))
        mask = F.one_hot(y, v.size(1)).unsqueeze(-1).float()
        recon = self.decoder((v * mask).flatten(1))
        return v.norm(dim=-1), recon


def margin_loss(lengths, y, m_pos=0.9, m_neg=0.1, lam=0.5):
    t = F.one_hot(y, lengths.size(1)).float()
    loss = t * F.relu(m_pos - lengths) ** 2 + lam * (1 - t) * F.relu(lengths - m_neg) ** 2
    return loss.sum(1).mean()


def train(model, loader, optimizer, epochs=2, recon_weight=0.0005):
    for _ in range(epochs):
        for x, y in loader:
            lengths, recon = model(x, y)
            loss = margin_loss(lengths, y) + recon_weight * F.mse_loss(recon, x.flatten(1), reduction="sum")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 1, 8, 8, generator=g)
    y = torch.randint(0, 4, (32,), generator=g)
    model = CapsNet()
    train(model, DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g),
          torch.optim.Adam(model.parameters(), lr=1e-3))
    return {"model": model}

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
