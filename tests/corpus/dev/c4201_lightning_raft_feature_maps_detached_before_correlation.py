import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class ConvEncoder(nn.Module):
    def __init__(self, out_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(16, out_dim, 3, padding=1))

    def forward(self, x):
        return self.net(x)


def all_pairs_correlation(fmap1, fmap2):
    b, c, h, w = fmap1.shape
    corr = torch.bmm(fmap1.flatten(2).transpose(1, 2), fmap2.flatten(2)) / c ** 0.5
    return corr.view(b, h, w, h * w).permute(0, 3, 1, 2)


class UpdateBlock(nn.Module):
    def __init__(self, corr_ch, ctx_dim, hidden):
        super().__init__()
        self.corr_proj = nn.Conv2d(corr_ch, hidden, 1)
        self.flow_proj = nn.Conv2d(2, hidden, 3, padding=1)
        self.gru = nn.Conv2d(3 * hidden + ctx_dim, hidden, 3, padding=1)
        self.flow_head = nn.Conv2d(hidden, 2, 3, padding=1)

    def forward(self, net, ctx, corr, flow):
        motion = torch.cat([F.relu(self.corr_proj(corr)), F.relu(self.flow_proj(flow))], 1)
        net = torch.tanh(self.gru(torch.cat([net, ctx, motion], 1)))
        return net, self.flow_head(net)


class RAFTLite(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.hidden, self.ctx_dim = cfg["hidden"], cfg["ctx_dim"]
        self.fnet = ConvEncoder(cfg["feat_dim"])
        self.cnet = ConvEncoder(cfg["hidden"] + cfg["ctx_dim"])
        self.update = UpdateBlock(cfg["corr_ch"], cfg["ctx_dim"], cfg["hidden"])
        self.iters, self.gamma, self.lr = cfg["iters"], cfg["gamma"], cfg["lr"]

    def encode_pair(self, img1, img2):
        fmap1, fmap2 = self.fnet(img1), self.fnet(img2)
        return fmap1.detach(), fmap2.detach()

    def forward(self, img1, img2):
        fmap1, fmap2 = self.encode_pair(img1, img2)
        corr = all_pairs_correlation(fmap1, fmap2)
        net, ctx = torch.split(self.cnet(img1), [self.hidden, self.ctx_dim], dim=1)
        net, ctx = torch.tanh(net), F.relu(ctx)
        b, _, h, w = fmap1.shape
        flow = torch.zeros(b, 2, h, w)
        predictions = []
        for _ in range(self.iters):
            flow = flow.detach()
            net, delta = self.update(net, ctx, corr, flow)
            flow = flow + delta
            predictions.append(2 * F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=False))
        return predictions

    def sequence_loss(self, predictions, flow_gt):
        n = len(predictions)
        return sum(self.gamma ** (n - i - 1) * (p - flow_gt).abs().mean() for i, p in enumerate(predictions))

    def training_step(self, batch, batch_idx):
        img1, img2, flow_gt = batch
        loss = self.sequence_loss(self(img1, img2), flow_gt)
        self.log("train/epe", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=100)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def flying_chairs_like(n=12, size=16):
    g = torch.Generator().manual_seed(0)
    img1 = torch.rand(n, 3, size, size, generator=g)
    shift = torch.randint(-2, 3, (n, 2), generator=g)
    img2 = torch.stack([torch.roll(im, (int(s[0]), int(s[1])), dims=(1, 2)) for im, s in zip(img1, shift)])
    flow = shift.flip(1).float()[:, :, None, None].expand(n, 2, size, size).contiguous()
    return DataLoader(TensorDataset(img1, img2, flow), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    cfg = {"feat_dim": 16, "hidden": 8, "ctx_dim": 8, "corr_ch": 64, "iters": 3, "gamma": 0.8, "lr": 2e-3}
    model = RAFTLite(cfg)
    f0 = model.fnet.net[0].weight.detach().clone()
    c0 = model.cnet.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, flying_chairs_like())
    return {"model": model}, {
        "fnet_changed": not torch.equal(f0, model.fnet.net[0].weight),
        "cnet_changed": not torch.equal(c0, model.cnet.net[0].weight),
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
