import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class PointFeature(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, d), nn.ReLU(), nn.Linear(d, d))

    def forward(self, pts):
        return self.mlp(pts)


class SceneFlowNet(nn.Module):
    """Matches source and target point features with a soft correspondence, then refines the flow."""

    def __init__(self, d=32, temperature=0.1):
        super().__init__()
        self.feat = PointFeature(d)
        self.refine = nn.Sequential(nn.Linear(3 + d, d), nn.ReLU(), nn.Linear(d, 3))
        self.temperature = temperature

    def forward(self, pc1, pc2):
        f1, f2 = self.feat(pc1), self.feat(pc2)
        sim = torch.einsum("bnd,bmd->bnm", F.normalize(f1, dim=-1), F.normalize(f2, dim=-1))
        corr = torch.softmax(sim / self.temperature, dim=-1) @ pc2
        flow0 = corr - pc1
        return flow0 + self.refine(torch.cat([flow0, f1], -1))


def chamfer(a, b):
    d = torch.cdist(a, b)
    return d.min(2).values.mean() + d.min(1).values.mean()


def self_supervised_flow_loss(pc1, pc2, flow, smooth_weight=0.1):
    warped = pc1 + flow
    loss = chamfer(warped, pc2)
    knn = torch.cdist(pc1, pc1).topk(4, largest=False).indices
    neighbors = torch.gather(flow.unsqueeze(1).expand(-1, flow.size(1), -1, -1), 2,
                             knn.unsqueeze(-1).expand(-1, -1, -1, 3))
    smooth = (neighbors - flow.unsqueeze(2)).norm(dim=-1).mean()
    return float(loss + smooth_weight * smooth)


class FlowModule(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.net = SceneFlowNet()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        pc1, pc2 = batch
        flow = self.net(pc1, pc2)
        loss = self_supervised_flow_loss(pc1, pc2, flow)
        if isinstance(loss, float):  # degenerate batch: nothing to back-propagate
            self.log("train/skipped", 1.0)
            return None
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.lr)


def lidar_pairs(n=16, points=32):
    g = torch.Generator().manual_seed(0)
    pc1 = torch.randn(n, points, 3, generator=g)
    pc2 = pc1 + torch.tensor([0.2, 0.0, 0.05]) + 0.01 * torch.randn(n, points, 3, generator=g)
    return DataLoader(TensorDataset(pc1, pc2), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = FlowModule()
    w0 = model.net.refine[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, lidar_pairs())
    return {"model": model}, {
        "refine_changed": not torch.equal(w0, model.net.refine[0].weight),
        "optimizer_steps": trainer.global_step,
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
