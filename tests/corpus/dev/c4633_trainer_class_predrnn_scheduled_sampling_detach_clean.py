import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

TRAIN = {"total_len": 8, "input_len": 4, "size": 12, "hidden": 8, "layers": 2, "lr": 1e-3, "epochs": 2,
         "eta_start": 1.0, "eta_decay": 0.2}


class ConvLSTMCell(nn.Module):
    def __init__(self, cin, hid):
        super().__init__()
        self.hid = hid
        self.conv = nn.Conv2d(cin + hid, 4 * hid, 3, padding=1)

    def forward(self, x, h, c):
        i, f, o, g = self.conv(torch.cat([x, h], 1)).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class PredRNNLite(nn.Module):
    def __init__(self, hidden, layers):
        super().__init__()
        self.cells = nn.ModuleList(ConvLSTMCell(1 if k == 0 else hidden, hidden) for k in range(layers))
        self.head = nn.Conv2d(hidden, 1, 1)

    def forward(self, frames, true_mask, input_len):
        B, T, _, H, W = frames.shape
        hs = [frames.new_zeros(B, c.hid, H, W) for c in self.cells]
        cs = [h.clone() for h in hs]
        preds, pred = [], None
        for t in range(T - 1):
            if t < input_len or pred is None:
                x = frames[:, t]
            else:
                m = true_mask[:, t - input_len].view(B, 1, 1, 1)
                x = m * frames[:, t] + (1 - m) * pred.detach()
            for k, cell in enumerate(self.cells):
                hs[k], cs[k] = cell(x if k == 0 else hs[k - 1], hs[k], cs[k])
            pred = torch.sigmoid(self.head(hs[-1]))
            preds.append(pred)
        return torch.stack(preds, 1)


class VideoPredictionTrainer:
    def __init__(self, model, cfg):
        self.model = model
        self.cfg = cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.eta = cfg["eta_start"]
        self.history = []

    def sampling_mask(self, batch, g):
        n = self.cfg["total_len"] - self.cfg["input_len"] - 1
        return (torch.rand(batch, n, generator=g) < self.eta).float()

    def train_step(self, clip, g):
        self.model.train()
        mask = self.sampling_mask(clip.size(0), g)
        preds = self.model(clip, mask, self.cfg["input_len"])
        loss = F.mse_loss(preds, clip[:, 1:])
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, loader):
        g = torch.Generator().manual_seed(0)
        for epoch in range(self.cfg["epochs"]):
            for (clip,) in loader:
                self.history.append(self.train_step(clip, g))
            self.eta = max(0.0, self.eta - self.cfg["eta_decay"])

    @torch.no_grad()
    def rollout(self, clip):
        self.model.eval()
        mask = torch.zeros(clip.size(0), self.cfg["total_len"] - self.cfg["input_len"] - 1)
        return self.model(clip, mask, self.cfg["input_len"])


def bouncing_blobs(cfg, n=8):
    g = torch.Generator().manual_seed(0)
    T, S = cfg["total_len"], cfg["size"]
    yy, xx = torch.meshgrid(torch.arange(S).float(), torch.arange(S).float(), indexing="ij")
    clips = torch.zeros(n, T, 1, S, S)
    for b in range(n):
        x0, y0 = torch.rand(2, generator=g) * (S - 1)
        vx, vy = torch.randn(2, generator=g)
        for t in range(T):
            cx, cy = (x0 + vx * t) % S, (y0 + vy * t) % S
            clips[b, t, 0] = torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 4)
    return DataLoader(TensorDataset(clips), batch_size=4, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = PredRNNLite(TRAIN["hidden"], TRAIN["layers"])
    trainer = VideoPredictionTrainer(model, TRAIN)
    w0 = model.cells[0].conv.weight.detach().clone()
    loader = bouncing_blobs(TRAIN)
    trainer.fit(loader)
    trainer.rollout(next(iter(loader))[0])
    return {"model": model}, {
        "cells_changed": not torch.equal(w0, model.cells[0].conv.weight),
        "sampling_eta_decayed": trainer.eta < TRAIN["eta_start"],
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
