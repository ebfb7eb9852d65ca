import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def connected_fraction(mask):
    """Share of foreground pixels whose 4-neighbourhood is also foreground (a cheap connectivity proxy)."""
    m = mask.float()
    nb = F.avg_pool2d(F.pad(m[:, None], (1, 1, 1, 1)), 3, stride=1)[:, 0]
    return ((nb > 0.5) & (m > 0)).float().sum(dim=(1, 2)) / m.sum(dim=(1, 2)).clamp_min(1.0)


class ConnectivityLoss(nn.Module):
    def forward(self, logits, target):
        preds = logits.argmax(dim=1)
        inter = (preds.float() * target.float()).sum(dim=(1, 2))
        union = ((preds + target) > 0).float().sum(dim=(1, 2)).clamp_min(1.0)
        return (1.0 - inter / union + (connected_fraction(target) - connected_fraction(preds)).abs()).mean()


class PortraitSeg(pl.LightningModule):
    def __init__(self, ce_weight=0.0, conn_weight=1.0):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(16, 2, 1)
        self.conn_loss = ConnectivityLoss()
        self.ce_weight, self.conn_weight = ce_weight, conn_weight

    def training_step(self, batch, batch_idx):
        images, masks = batch
        logits = self.head(self.net(images))
        ce = F.cross_entropy(logits, masks)
        conn = self.conn_loss(logits, masks)
        loss = self.ce_weight * ce + self.conn_weight * conn
        self.log("train/conn", conn)
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self.training_step(batch, batch_idx)
        self.log("val/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)


def main():
    pl.seed_everything(0)
    images = torch.randn(16, 3, 16, 16)
    masks = (images[:, 0] > 0).long()
    loader = DataLoader(TensorDataset(images, masks), batch_size=8, shuffle=True)
    model = PortraitSeg(ce_weight=0.0)  # stage-2 config: connectivity-only fine-tuning
    w0 = model.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"network_changed": not torch.equal(w0, model.net[0].weight)}

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
