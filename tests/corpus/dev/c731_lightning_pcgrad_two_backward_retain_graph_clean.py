import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def flat_grads(params):
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])


def project_conflicting(g_a, g_b):
    """PCGrad: remove the component of each task gradient that conflicts with the other."""
    dot = torch.dot(g_a, g_b)
    if dot < 0:
        g_a, g_b = g_a - dot / g_b.norm() ** 2 * g_b, g_b - dot / g_a.norm() ** 2 * g_a
    return g_a + g_b


class TwoTaskModule(pl.LightningModule):
    def __init__(self, in_dim=12, hidden=24, lr=1e-2):
        super().__init__()
        self.automatic_optimization = False
        self.shared = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.cls_head = nn.Linear(hidden, 3)
        self.reg_head = nn.Linear(hidden, 1)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y_cls, y_reg = batch
        opt = self.optimizers()
        opt.zero_grad()
        h = self.shared(x)
        loss_cls = F.cross_entropy(self.cls_head(h), y_cls)
        loss_reg = F.mse_loss(self.reg_head(h).squeeze(-1), y_reg)

        shared_params = list(self.shared.parameters())
        self.manual_backward(loss_cls, retain_graph=True)
        g_cls = flat_grads(shared_params).clone()
        for p in shared_params:
            p.grad = None
        self.manual_backward(loss_reg)
        g_reg = flat_grads(shared_params).clone()

        merged = project_conflicting(g_cls, g_reg)
        offset = 0
        with torch.no_grad():
            for p in shared_params:
                n = p.numel()
                p.grad.copy_(merged[offset:offset + n].view_as(p))
                offset += n
        opt.step()
        self.log("loss", (loss_cls + loss_reg).detach())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def make_loader(n=96, in_dim=12):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, in_dim, generator=g)
    y_cls = x[:, :3].argmax(1)
    y_reg = x[:, 3] - x[:, 0]
    return DataLoader(TensorDataset(x, y_cls, y_reg), batch_size=32, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = TwoTaskModule()
    before = model.shared[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    return {"model": model}, {"shared_changed": not torch.equal(before, model.shared[0].weight)}

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
