import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


@torch.no_grad()
def sinkhorn(scores, eps=0.05, iters=3):
    q = torch.exp(scores / eps).t()
    q /= q.sum()
    k, b = q.shape
    for _ in range(iters):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    return (q * b).t()


class SwAV(pl.LightningModule):
    def __init__(self, in_dim=20, dim=16, n_prototypes=8, temperature=0.1):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.projector = nn.Linear(32, dim)
        self.prototypes = nn.Linear(dim, n_prototypes, bias=False)
        self.temperature = temperature

    def embed(self, x):
        return F.normalize(self.projector(self.encoder(x)), dim=1)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        with torch.no_grad():
            w = self.prototypes.weight.data.clone()
            self.prototypes.weight.copy_(F.normalize(w, dim=1))
        x1 = x + 0.1 * torch.randn_like(x)
        x2 = x * (1 + 0.1 * torch.randn_like(x))
        p1, p2 = self.prototypes(self.embed(x1)), self.prototypes(self.embed(x2))
        q1, q2 = sinkhorn(p1.detach()), sinkhorn(p2.detach())
        loss = -0.5 * ((q1 * F.log_softmax(p2 / self.temperature, dim=1)).sum(1).mean()
                       + (q2 * F.log_softmax(p1 / self.temperature, dim=1)).sum(1).mean())
        self.log("swav_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 20, generator=g) * 3
    x = centers[torch.randint(0, 4, (64,), generator=g)] + torch.randn(64, 20, generator=g)
    model = SwAV()
    enc0 = model.encoder[0].weight.detach().clone()
    proto0 = model.prototypes.weight.detach().clone()
    loader = DataLoader(TensorDataset(x), batch_size=16, shuffle=True, generator=g)
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    norms = model.prototypes.weight.detach().norm(dim=1)
    facts = {
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "prototypes_changed": not torch.equal(proto0, model.prototypes.weight),
        "prototype_norms_near_one": bool(((norms - 1).abs() < 0.5).all()),
    }
    return {"model": model}, facts

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
