import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SAGELayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.self_lin = nn.Linear(d_in, d_out)
        self.neigh_lin = nn.Linear(d_in, d_out)

    def forward(self, x, adj_mean):
        return self.self_lin(x) + self.neigh_lin(adj_mean @ x)


class LinkPredictor(pl.LightningModule):
    def __init__(self, features, adj_mean, hidden=16):
        super().__init__()
        self.register_buffer("features", features)
        self.register_buffer("adj_mean", adj_mean)
        self.conv1 = SAGELayer(features.shape[1], hidden)
        self.conv2 = SAGELayer(hidden, hidden)

    def encode(self):
        return self.conv2(F.relu(self.conv1(self.features, self.adj_mean)), self.adj_mean)

    def training_step(self, batch, batch_idx):
        src, dst, label = batch
        z = self.encode()
        score = torch.sigmoid((z[src] * z[dst]).sum(-1))
        pred = torch.round(score)
        loss = F.mse_loss(pred, label)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    n = 24
    adj = (torch.rand(n, n, generator=g) > 0.8).float()
    adj_mean = adj / adj.sum(1, keepdim=True).clamp(min=1)
    pairs = torch.randint(0, n, (2, 64), generator=g)
    labels = adj[pairs[0], pairs[1]]
    loader = DataLoader(TensorDataset(pairs[0], pairs[1], labels), batch_size=16, shuffle=True, generator=g)
    model = LinkPredictor(torch.randn(n, 8, generator=g), adj_mean)
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
