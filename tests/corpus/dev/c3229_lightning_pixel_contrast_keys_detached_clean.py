import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SegNet(nn.Module):
    def __init__(self, n_cls=3, ch=16, proj_dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.seg_head = nn.Conv2d(ch, n_cls, 1)
        self.proj = nn.Conv2d(ch, proj_dim, 1)

    def forward(self, x):
        h = self.encoder(x)
        return self.seg_head(h), F.normalize(self.proj(h), dim=1)


def region_contrast(emb, labels, n_cls, temp=0.5, n_query=16):
    d = emb.size(1)
    flat = emb.permute(0, 2, 3, 1).reshape(-1, d)
    lab = labels.reshape(-1)
    keys = torch.stack([flat[lab == c].mean(0) if (lab == c).any() else torch.zeros(d) for c in range(n_cls)])
    keys = F.normalize(keys, dim=-1).detach()
    loss, count = flat.new_zeros(()), 0
    for c in range(n_cls):
        idx = (lab == c).nonzero().squeeze(1)[:n_query]
        if idx.numel() == 0:
            continue
        q = flat[idx]
        logits = q @ keys.T / temp
        loss = loss + F.cross_entropy(logits, torch.full((idx.numel(),), c))
        count += 1
    return loss / max(count, 1)


class ReCoModule(pl.LightningModule):
    def __init__(self, n_cls=3, weight=0.5):
        super().__init__()
        self.model = SegNet(n_cls)
        self.n_cls, self.weight = n_cls, weight

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits, emb = self.model(x)
        sup = F.cross_entropy(logits, y)
        con = region_contrast(emb, y, self.n_cls)
        self.log_dict({"sup": sup.detach(), "con": con.detach()})
        return sup + self.weight * con

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 3, (8, 8, 8), generator=g))
    module = ReCoModule()
    w0 = module.model.encoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, DataLoader(data, batch_size=4))
    return {"model": module.model}, {"encoder_changed": not torch.equal(w0, module.model.encoder[0].weight)}

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
