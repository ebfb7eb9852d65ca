import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def strong_augment(x, g=None):
    noise = 0.2 * torch.randn_like(x)
    cut = torch.ones_like(x)
    cut[..., 4:10, 4:10] = 0.0
    return (x + noise) * cut


class SemiSupSegmenter(pl.LightningModule):
    def __init__(self, n_classes=3, threshold=0.5, unsup_weight=1.0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.classifier = nn.Conv2d(16, n_classes, 1)
        self.threshold, self.unsup_weight = threshold, unsup_weight

    def forward(self, x):
        return self.classifier(self.encoder(x))

    def training_step(self, batch, batch_idx):
        x_l, y_l, x_u = batch
        sup = F.cross_entropy(self(x_l), y_l)
        weak = x_u + 0.02 * torch.randn_like(x_u)
        probs = self(weak).softmax(dim=1).detach()
        conf, pseudo = probs.max(dim=1)
        mask = (conf > self.threshold).float()
        unsup = (F.cross_entropy(self(strong_augment(x_u)), pseudo, reduction="none") * mask).mean()
        self.log("train/mask_ratio", mask.mean())
        return sup + self.unsup_weight * unsup

    def validation_step(self, batch, batch_idx):
        loss = self.training_step(batch, batch_idx)
        self.log("val/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)


def main():
    pl.seed_everything(0)
    x_l, y_l = torch.randn(16, 3, 14, 14), torch.randint(0, 3, (16, 14, 14))
    x_u = torch.randn(16, 3, 14, 14)
    loader = DataLoader(TensorDataset(x_l, y_l, x_u), batch_size=8, shuffle=True)
    model = SemiSupSegmenter()
    w0 = model.encoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"encoder_changed": not torch.equal(w0, model.encoder[0].weight)}

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
