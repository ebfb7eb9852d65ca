import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mlp(d_in, d_hidden, d_out):
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.BatchNorm1d(d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))


class BYOL(pl.LightningModule):
    def __init__(self, in_dim=20, feat_dim=24, proj_dim=16, num_classes=4, tau=0.99):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, 48), nn.ReLU(), nn.Linear(48, feat_dim))
        self.projector = mlp(feat_dim, 32, proj_dim)
        self.predictor = mlp(proj_dim, 32, proj_dim)
        self.target_backbone = copy.deepcopy(self.backbone).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)
        self.probe = nn.Linear(feat_dim, num_classes)
        self.tau = tau

    def byol_loss(self, online, target):
        return 2 - 2 * F.cosine_similarity(self.predictor(online), target, dim=-1).mean()

    def training_step(self, batch, batch_idx):
        x1, x2, y = batch
        f1, f2 = self.backbone(x1), self.backbone(x2)
        with torch.no_grad():
            t1 = self.target_projector(self.target_backbone(x1))
            t2 = self.target_projector(self.target_backbone(x2))
        loss = self.byol_loss(self.projector(f1), t2) + self.byol_loss(self.projector(f2), t1)
        probe_loss = F.cross_entropy(self.probe(f1.detach()), y)
        self.log_dict({"byol": loss, "probe": probe_loss})
        return loss + probe_loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        for online, target in ((self.backbone, self.target_backbone), (self.projector, self.target_projector)):
            for p_o, p_t in zip(online.parameters(), target.parameters()):
                p_t.data.mul_(self.tau).add_(p_o.data, alpha=1 - self.tau)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (64,), generator=g)
    x = torch.randn(64, 20, generator=g) + F.one_hot(y, 20).float()
    x1, x2 = x + 0.1 * torch.randn(x.shape, generator=g), x + 0.1 * torch.randn(x.shape, generator=g)
    loader = DataLoader(TensorDataset(x1, x2, y), batch_size=16, shuffle=True, generator=g)
    model = BYOL()
    target_before = model.target_backbone[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    facts = {"target_tracks_online": not torch.equal(target_before, model.target_backbone[0].weight)}
    return {"backbone": model.backbone, "predictor": model.predictor, "probe": model.probe}, facts

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
