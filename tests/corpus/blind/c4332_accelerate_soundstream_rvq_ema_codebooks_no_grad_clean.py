import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class EMACodebook(nn.Module):
    """k-means style codebook updated by exponential moving averages, not by the optimizer."""

    def __init__(self, size, dim, decay=0.9, eps=1e-5):
        super().__init__()
        self.register_buffer("embed", torch.randn(size, dim))
        self.register_buffer("cluster_size", torch.zeros(size))
        self.register_buffer("embed_avg", self.embed.clone())
        self.decay, self.eps = decay, eps

    def forward(self, x):
        idx = torch.cdist(x, self.embed).argmin(-1)
        q = F.embedding(idx, self.embed)
        if self.training:
            self.ema_update(x, idx)
        return q, idx

    @torch.no_grad()
    def ema_update(self, x, idx):
        onehot = F.one_hot(idx, self.embed.shape[0]).type(x.dtype)
        self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.embed_avg.mul_(self.decay).add_(onehot.t() @ x, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        size = (self.cluster_size + self.eps) / (n + self.embed.shape[0] * self.eps) * n
        self.embed.copy_(self.embed_avg / size.unsqueeze(1))


class ResidualVQ(nn.Module):
    def __init__(self, n_q, size, dim):
        super().__init__()
        self.layers = nn.ModuleList([EMACodebook(size, dim) for _ in range(n_q)])

    def forward(self, z):
        b, d, t = z.shape
        x = z.transpose(1, 2).reshape(-1, d)
        residual, out, commit = x.detach(), torch.zeros_like(x), 0.0
        for layer in self.layers:
            q, _ = layer(residual)
            residual = residual - q
            out = out + q
        commit = F.mse_loss(x, out.detach())
        out = x + (out - x).detach()
        return out.view(b, t, d).transpose(1, 2), commit


class SoundStreamCodec(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(1, 16, 7, padding=3), nn.ELU(), nn.Conv1d(16, dim, 4, stride=4))
        self.rvq = ResidualVQ(n_q=3, size=16, dim=dim)
        self.decoder = nn.Sequential(nn.ConvTranspose1d(dim, 16, 4, stride=4), nn.ELU(), nn.Conv1d(16, 1, 7, padding=3))

    def forward(self, wav):
        zq, commit = self.rvq(self.encoder(wav))
        return self.decoder(zq), commit


def train_one_epoch(model, loader, optimizer, accelerator, cfg, history):
    model.train()
    for (wav,) in loader:
        with accelerator.accumulate(model):
            recon, commit = model(wav)
            loss = F.l1_loss(recon, wav) + cfg["commit_w"] * commit
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
        history.append(loss.item())


def main():
    set_seed(0)
    cfg = {"lr": 2e-3, "commit_w": 0.25, "accum": 2}
    accelerator = Accelerator(gradient_accumulation_steps=cfg["accum"])
    model = SoundStreamCodec()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    t = torch.linspace(0, 1, 128)
    wav = 0.5 * torch.sin(2 * torch.pi * (torch.rand(16, 1, 1) * 12 + 4) * t)
    loader = DataLoader(TensorDataset(wav), batch_size=4, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    enc0 = model.encoder[0].weight.detach().clone()
    dec0 = model.decoder[2].weight.detach().clone()
    cb0 = model.rvq.layers[0].embed.clone()
    history = []
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator, cfg, history)
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder[2].weight),
        "codebook_ema_moved": not torch.equal(cb0, model.rvq.layers[0].embed),
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
