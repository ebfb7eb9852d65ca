import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def squash(s, dim=-1, eps=1e-8):
    sq = (s ** 2).sum(dim=dim, keepdim=True)
    return sq / (1.0 + sq) * s / torch.sqrt(sq + eps)


class PrimaryCaps(nn.Module):
    def __init__(self, cin=8, n_maps=4, dim=4):
        super().__init__()
        self.conv = nn.Conv2d(cin, n_maps * dim, 3, stride=2)
        self.dim = dim

    def forward(self, x):
        u = self.conv(x)
        b, _, h, w = u.shape
        u = u.view(b, -1, self.dim, h, w).permute(0, 1, 3, 4, 2).reshape(b, -1, self.dim)
        return squash(u)


class DigitCaps(nn.Module):
    """Routing-by-agreement; the coupling logits are updated from a stopped copy of the predictions."""

    def __init__(self, n_in, d_in=4, n_out=3, d_out=6, iters=3):
        super().__init__()
        self.W = nn.Parameter(0.05 * torch.randn(1, n_in, n_out, d_out, d_in))
        self.iters = iters

    def forward(self, u):
        u_hat = (self.W @ u[:, :, None, :, None]).squeeze(-1)
        u_hat_detached = u_hat.detach()
        logits = torch.zeros(u_hat.shape[:3], device=u.device)
        for r in range(self.iters):
            c = F.softmax(logits, dim=2)
            s = (c.unsqueeze(-1) * u_hat_detached).sum(dim=1)
            v = squash(s)
            if r < self.iters - 1:
                logits = logits + (u_hat_detached * v.unsqueeze(1)).sum(-1)
        return v


def margin_loss(lengths, labels, m_pos=0.9, m_neg=0.1, lam=0.5):
    t = F.one_hot(labels, lengths.shape[1]).float()
    pos = t * F.relu(m_pos - lengths) ** 2
    neg = lam * (1 - t) * F.relu(lengths - m_neg) ** 2
    return (pos + neg).sum(1).mean()


class CapsNet(pl.LightningModule):
    def __init__(self, n_classes=3, lr=1e-2):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 5)
        self.primary = PrimaryCaps()
        self.digit = DigitCaps(n_in=4 * 3 * 3, n_out=n_classes)
        self.decoder = nn.Sequential(nn.Linear(n_classes * 6, 32), nn.ReLU(), nn.Linear(32, 144), nn.Sigmoid())
        self.lr = lr

    def forward(self, x):
        return self.digit(self.primary(F.relu(self.stem(x))))

    def training_step(self, batch, batch_idx):
        x, y = batch
        v = self(x)
        mask = F.one_hot(y, v.shape[1]).float().unsqueeze(-1)
        recon = self.decoder((v * mask).flatten(1))
        loss = margin_loss(v.norm(dim=-1), y) + 0.5 * F.mse_loss(recon, x.flatten(1))
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loader(n=24):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    x = 0.1 * torch.rand(n, 1, 12, 12, generator=g)
    for i in range(n):
        x[i, 0, 2 + 3 * int(y[i]):5 + 3 * int(y[i]), 2:10] += 0.8
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = CapsNet()
    stem0 = model.stem.weight.detach().clone()
    w0 = model.digit.W.detach().clone()
    dec0 = model.decoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, make_loader())
    return {"model": model}, {
        "stem_changed": not torch.equal(stem0, model.stem.weight),
        "routing_weights_changed": not torch.equal(w0, model.digit.W),
        "decoder_changed": not torch.equal(dec0, model.decoder[0].weight),
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
