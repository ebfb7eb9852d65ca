import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SharedEncoder(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU(),
                                 nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class DenseHeads(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.depth = nn.Conv2d(ch, 1, 1)
        self.normals = nn.Conv2d(ch, 3, 1)

    def forward(self, feat):
        return F.softplus(self.depth(feat)), F.normalize(self.normals(feat), dim=1)


def weighted_total(losses: dict, weights: dict) -> torch.Tensor:
    """Combine the task losses with their static weights into one scalar for backward."""
    terms = [weights[name] * value for name, value in losses.items()]
    return torch.tensor(terms, requires_grad=True).sum()


class MultiTaskModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = SharedEncoder()
        self.heads = DenseHeads()
        self.task_weights = {"depth": 1.0, "normals": 0.5}

    def training_step(self, batch, batch_idx):
        img, depth, normals = batch
        pred_depth, pred_normals = self.heads(self.encoder(img))
        losses = {"depth": F.l1_loss(torch.log(pred_depth + 1e-3), torch.log(depth + 1e-3)),
                  "normals": (1 - F.cosine_similarity(pred_normals, normals, dim=1)).mean()}
        for name, value in losses.items():
            self.log(f"train/{name}", value.item())
        return weighted_total(losses, self.task_weights)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1), "interval": "epoch"}}


def make_loader():
    g = torch.Generator().manual_seed(0)
    img = torch.randn(16, 3, 8, 8, generator=g)
    depth = torch.rand(16, 1, 8, 8, generator=g) + 0.5
    normals = F.normalize(torch.randn(16, 3, 8, 8, generator=g), dim=1)
    return DataLoader(TensorDataset(img, depth, normals), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = MultiTaskModule()
    w0 = module.encoder.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, make_loader())
    return {"encoder": module.encoder, "heads": module.heads}, {"encoder_changed": not torch.equal(w0, module.encoder.net[0].weight)}

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
