import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mlp(i, o, h=32):
    return nn.Sequential(nn.Linear(i, h), nn.SiLU(), nn.Linear(h, o), nn.LayerNorm(o))


class GraphMapper(nn.Module):
    """Maps features between the data grid and the hidden mesh with a fixed bipartite graph."""

    def __init__(self, in_dim, out_dim, n_src, n_dst):
        super().__init__()
        self.data = mlp(in_dim, out_dim)
        self.edge_mix = nn.Linear(out_dim, out_dim)
        self.register_buffer("assign", torch.softmax(torch.randn(n_dst, n_src), dim=1))

    def forward(self, x):
        return self.edge_mix(self.assign @ self.data(x))


class Processor(nn.Module):
    def __init__(self, dim, steps=2):
        super().__init__()
        self.proc_layers = nn.ModuleList([mlp(dim, dim) for _ in range(steps)])

    def forward(self, h):
        for layer in self.proc_layers:
            h = h + layer(h)
        return h


class EncProcDec(nn.Module):
    def __init__(self, n_vars=5, n_grid=40, n_mesh=12, dim=32, n_out=6):
        super().__init__()
        self.encoder = GraphMapper(n_vars, dim, n_grid, n_mesh)
        self.processor = Processor(dim)
        self.decoder = GraphMapper(dim, n_out, n_mesh, n_grid)

    def forward(self, x):
        return self.decoder(self.processor(self.encoder(x)))


def freeze_submodules(model, names):
    for name, param in model.named_parameters():
        if any(key in name.split(".") for key in names):
            param.requires_grad = False


class ForecastFinetuner(pl.LightningModule):
    """Fine-tune a pretrained encoder-processor-decoder on a new output variable, keeping the data encoder frozen."""

    def __init__(self, freeze=("data",), lr=1e-3):
        super().__init__()
        self.model = EncProcDec()
        freeze_submodules(self.model, freeze)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        pred = torch.stack([self.model(xi) for xi in x])
        loss = F.mse_loss(pred, y)
        self.log("train_mse", loss.detach())
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=self.lr)


def main():
    pl.seed_everything(0)
    x, y = torch.randn(8, 40, 5), torch.randn(8, 40, 6)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
    module = ForecastFinetuner()
    dec0 = module.model.decoder.data[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, loader)
    return ({"model": module.model},
            {"decoder_data_changed": not torch.equal(dec0, module.model.decoder.data[0].weight),
             "decoder_data_trainable": module.model.decoder.data[0].weight.requires_grad})

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
