import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())

    def forward(self, x):
        h = self.stem(x)
        return h + self.block(h)


class DepthWithUncertainty(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.encoder = Encoder(width)
        self.depth_head = nn.Conv2d(width, 1, 1)
        self.logvar_head = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        feats = self.encoder(x)
        return F.softplus(self.depth_head(feats)), self.logvar_head(feats)


class LossTracker:
    """Keeps running means of named loss terms for the progress bar."""

    def __init__(self):
        self.sums, self.counts = {}, {}

    def track(self, name, value):
        value = value.detach()
        self.sums[name] = self.sums.get(name, 0.0) + float(value)
        self.counts[name] = self.counts.get(name, 0) + 1
        return value

    def means(self):
        return {k: self.sums[k] / self.counts[k] for k in self.sums}


class DepthModule(pl.LightningModule):
    def __init__(self, lr=1e-2, unc_weight=0.5):
        super().__init__()
        self.automatic_optimization = False
        self.net = DepthWithUncertainty()
        self.tracker = LossTracker()
        self.lr, self.unc_weight = lr, unc_weight

    def compute_terms(self, img, depth):
        pred, logvar = self.net(img)
        l1 = F.l1_loss(pred, depth)
        nll = (torch.exp(-logvar) * (pred.detach() - depth).abs() + logvar).mean()
        smooth = (pred[..., 1:] - pred[..., :-1]).abs().mean()
        return l1, {"nll": nll, "smooth": smooth}

    def training_step(self, batch, batch_idx):
        img, depth = batch
        opt = self.optimizers()
        l1, aux = self.compute_terms(img, depth)
        aux = {name: self.tracker.track(name, term) for name, term in aux.items()}
        loss = l1 + self.unc_weight * aux["nll"] + 0.1 * aux["smooth"]
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log_dict(self.tracker.means(), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    img = torch.rand(8, 3, 8, 8)
    depth = img.mean(1, keepdim=True) * 2 + 0.1
    loader = DataLoader(TensorDataset(img, depth), batch_size=4)
    model = DepthModule()
    before = model.net.logvar_head.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, loader)
    facts = {"logvar_head_changed": not torch.equal(before, model.net.logvar_head.weight)}
    return {"net": model.net}, facts

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
