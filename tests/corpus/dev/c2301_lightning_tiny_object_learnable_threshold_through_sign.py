import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Restorer(nn.Module):
    """Small conv net that predicts the clean image; |input - restored| is the difference map."""

    def __init__(self, ch=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class DetectionHead(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.conv = nn.Conv2d(2, ch, 3, padding=1)
        self.cls = nn.Linear(ch, 2)

    def forward(self, x, mask):
        h = F.relu(self.conv(torch.cat([x, mask], dim=1)))
        return self.cls(h.mean(dim=(2, 3)))


class TinyObjectDetector(pl.LightningModule):
    """Reconstruction-based attention for tiny objects: pixels whose reconstruction error exceeds a
    learned threshold are highlighted for the head."""

    def __init__(self, lr=1e-2):
        super().__init__()
        self.restorer = Restorer()
        self.head = DetectionHead()
        self.learnable_thresh = nn.Parameter(torch.tensor(0.05))
        self.lr = lr

    def difference_mask(self, x):
        restored = self.restorer(x)
        difference_map = (x - restored).abs()
        mask = (torch.sign(difference_map - self.learnable_thresh) + 1) * 0.5
        return mask, restored

    def training_step(self, batch, batch_idx):
        x, y = batch
        mask, restored = self.difference_mask(x)
        logits = self.head(x, mask)
        loss = F.cross_entropy(logits, y) + 0.1 * F.mse_loss(restored, x)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    x, y = torch.rand(16, 1, 12, 12), torch.randint(0, 2, (16,))
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model = TinyObjectDetector()
    t0 = model.learnable_thresh.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model}, {"thresh_changed": not torch.equal(t0, model.learnable_thresh.detach())})

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
