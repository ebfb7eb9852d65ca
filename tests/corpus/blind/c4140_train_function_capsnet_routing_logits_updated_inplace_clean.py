import torch
import torch.nn as nn
import torch.nn.functional as F


def squash(s, dim=-1, eps=1e-8):
    sq = (s ** 2).sum(dim, keepdim=True)
    return sq / (1 + sq) * s / torch.sqrt(sq + eps)


class PrimaryCapsLayer(nn.Module):
    def __init__(self, in_ch=16, caps=4, dim=4):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, caps * dim, 3, stride=2)
        self.caps, self.dim = caps, dim

    def forward(self, x):
        out = self.conv(x)
        n, _, h, w = out.shape
        out = out.view(n, self.caps, self.dim, h, w).permute(0, 1, 3, 4, 2).reshape(n, -1, self.dim)
        return squash(out)


class RoutingCapsLayer(nn.Module):
    def __init__(self, in_caps, in_dim=4, out_caps=3, out_dim=8, iterations=3):
        super().__init__()
        self.W = nn.Parameter(0.1 * torch.randn(1, in_caps, out_caps, out_dim, in_dim))
        self.iterations = iterations

    def forward(self, u):
        u_hat = (self.W @ u[:, :, None, :, None]).squeeze(-1)  # (B, in, out, dim)
        u_hat_detached = u_hat.detach()
        b = torch.zeros(u_hat.shape[:3])
        for i in range(self.iterations):
            c = F.softmax(b, dim=2)
            if i == self.iterations - 1:
                return squash((c[..., None] * u_hat).sum(1))
            v = squash((c[..., None] * u_hat_detached).sum(1))
            b += (u_hat_detached * v[:, None]).sum(-1)


class CapsNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3)
        self.primary = PrimaryCapsLayer()
        self.digits = RoutingCapsLayer(in_caps=4 * 3 * 3, out_caps=n_classes)
        self.decoder = nn.Sequential(nn.Linear(8 * n_classes, 32), nn.ReLU(), nn.Linear(32, 10 * 10), nn.Sigmoid())

    def forward(self, x, y=None):
        v = self.digits(self.primary(F.relu(self.conv1(x))))
        lengths = v.norm(dim=-1)
        idx = lengths.argmax(1) if y is None else y
        masked = (v * F.one_hot(idx, v.size(1))[..., None]).flatten(1)
        return lengths, self.decoder(masked).view(-1, 1, 10, 10)


def margin_loss(lengths, y, m_pos=0.9, m_neg=0.1, lam=0.5):
    t = F.one_hot(y, lengths.size(1)).float()
    return (t * F.relu(m_pos - lengths) ** 2 + lam * (1 - t) * F.relu(lengths - m_neg) ** 2).sum(1).mean()


def train_one_epoch(model, batches, optimizer, recon_weight=5e-4):
    for x, y in batches:
        lengths, recon = model(x, y)
        loss = margin_loss(lengths, y) + recon_weight * F.mse_loss(recon, x, reduction="sum")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.rand(8, 1, 10, 10, generator=g), torch.randint(0, 3, (8,), generator=g)) for _ in range(4)]
    model = CapsNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    w0 = model.digits.W.detach().clone()
    c0 = model.conv1.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, batches, optimizer)
    return {"model": model}, {
        "routing_weights_changed": not torch.equal(w0, model.digits.W),
        "conv1_changed": not torch.equal(c0, model.conv1.weight),
    }

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
