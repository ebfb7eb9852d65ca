import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class WideBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        return self.conv(F.leaky_relu(self.bn(x), 0.1)) + self.skip(x)


class SmallWRN(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.Sequential(WideBlock(8, 16), WideBlock(16, 16))
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1).flatten(1))


def weak_aug(x):
    return torch.where(torch.rand(x.size(0), 1, 1, 1) < 0.5, x.flip(-1), x)


def strong_aug(x):
    x = weak_aug(x) * (0.5 + torch.rand(x.size(0), 1, 1, 1))
    cut = torch.ones_like(x)
    cut[:, :, 2:5, 2:5] = 0  # cutout
    return x * cut


class FixMatch(pl.LightningModule):
    def __init__(self, threshold=0.6, lambda_u=1.0, lr=0.03):
        super().__init__()
        self.net = SmallWRN()
        self.threshold, self.lambda_u, self.lr = threshold, lambda_u, lr

    def training_step(self, batch, batch_idx):
        x_l, y_l, x_u = batch
        sup = F.cross_entropy(self.net(weak_aug(x_l)), y_l)
        with torch.no_grad():
            probs_w = self.net(weak_aug(x_u)).softmax(dim=-1)
            max_p, pseudo = probs_w.max(dim=-1)
            mask = (max_p >= self.threshold).float()
        unsup = (F.cross_entropy(self.net(strong_aug(x_u)), pseudo, reduction="none") * mask).mean()
        self.log_dict({"sup": sup.item(), "unsup": unsup.item(), "mask_rate": mask.mean().item()})
        return sup + self.lambda_u * unsup

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + torch.cos(torch.tensor(3.14159 * s / 16)).item()))
        return [opt], [{"scheduler": sched, "interval": "step"}]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x_l = torch.rand(16, 3, 8, 8, generator=g)
    y_l = torch.randint(0, 4, (16,), generator=g)
    x_u = torch.rand(16, 3, 8, 8, generator=g)
    loader = DataLoader(TensorDataset(x_l, y_l, x_u), batch_size=4, shuffle=True, generator=g)
    model = FixMatch(threshold=0.3)
    w0 = model.net.fc.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"net_changed": not torch.equal(w0, model.net.fc.weight)}

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
