import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class GraphConv(nn.Module):
    def __init__(self, in_dim, out_dim, adjacency):
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)
        self.register_buffer("adj", adjacency / adjacency.sum(-1, keepdim=True))

    def forward(self, x):
        return self.adj @ self.lin(x)


class MeshRegressor(pl.LightningModule):
    """Graph CNN that deforms a template hand mesh, conditioned on an image feature."""

    def __init__(self, n_verts=12, dim=16):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        adjacency = (torch.rand(n_verts, n_verts, generator=g) < 0.3).float() + torch.eye(n_verts)
        self.register_buffer("template_verts", torch.randn(n_verts, 3, generator=g))
        self.template_encoder = nn.Sequential(nn.Linear(3, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.image_encoder = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                           nn.Flatten(), nn.Linear(8, dim))
        self.gconv1 = GraphConv(dim, dim, adjacency)
        self.gconv2 = GraphConv(dim, 3, adjacency)
        self.template_feats = None

    def on_train_epoch_start(self):
        # the template does not depend on the batch: encode it once per epoch
        self.template_feats = self.template_encoder(self.template_verts)

    def forward(self, img):
        img_feat = self.image_encoder(img)[:, None, :]
        h = F.relu(self.gconv1(self.template_feats[None] + img_feat))
        return self.template_verts[None] + self.gconv2(h)

    def training_step(self, batch, batch_idx):
        img, verts = batch
        loss = F.l1_loss(self(img), verts)
        self.log("train/vertex_l1", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        return [opt], [torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[1], gamma=0.1)]


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 3, 8, 8, generator=g), torch.randn(16, 12, 3, generator=g)),
                        batch_size=4, shuffle=True, generator=g)
    model = MeshRegressor()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}

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
