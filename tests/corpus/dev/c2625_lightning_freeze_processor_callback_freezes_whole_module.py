import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset


class MessagePassing(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.msg = nn.Linear(2 * dim, dim)
        self.upd = nn.Linear(2 * dim, dim)

    def forward(self, h, adj):
        agg = adj @ h
        m = F.silu(self.msg(torch.cat([h, agg], dim=-1)))
        return h + self.upd(torch.cat([h, m], dim=-1))


class EncodeProcessDecode(nn.Module):
    def __init__(self, n_vars=3, dim=16, steps=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_vars, dim), nn.SiLU())
        self.processor = nn.ModuleList(MessagePassing(dim) for _ in range(steps))
        self.decoder = nn.Linear(dim, n_vars)

    def forward(self, x, adj):
        h = self.encoder(x)
        for layer in self.processor:
            h = layer(h, adj)
        return x + self.decoder(h)


class ForecastModule(L.LightningModule):
    def __init__(self, adj, lr=1e-3):
        super().__init__()
        self.model = EncodeProcessDecode()
        self.register_buffer("adj", adj)
        self.lr = lr

    @property
    def encoder(self):
        return self.model.encoder

    @property
    def decoder(self):
        return self.model.decoder

    def training_step(self, batch, batch_idx):
        state, target = batch
        loss = F.mse_loss(self.model(state, self.adj), target)
        self.log("train/mse", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


class FreezeProcessor(L.Callback):
    """After `at_epoch` epochs keep training only the encoder and decoder (fine-tuning stage)."""

    def __init__(self, at_epoch=1):
        self.at_epoch = at_epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.at_epoch:
            pl_module.freeze()
            pl_module.encoder.train()
            pl_module.decoder.train()


def main():
    L.seed_everything(0)
    n_nodes = 6
    adj = (torch.rand(n_nodes, n_nodes) > 0.5).float()
    adj = adj / adj.sum(-1, keepdim=True).clamp(min=1)
    g = torch.Generator().manual_seed(0)
    states = torch.randn(8, n_nodes, 3, generator=g)
    loader = DataLoader(TensorDataset(states, states.roll(1, dims=1)), batch_size=4)
    module = ForecastModule(adj)
    trainer = L.Trainer(max_epochs=2, callbacks=[FreezeProcessor(at_epoch=1)], logger=False)
    trainer.fit(module, loader)
    return {"model": module.model}

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
