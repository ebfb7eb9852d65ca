import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_vars": 4, "hidden": 16, "horizon": 3, "lr": 3e-3}


def select_variables(var_embeddings, selection_logits):
    """Soft variable selection; the weights are also kept for the interpretability report."""
    weights = torch.softmax(selection_logits, dim=-1).detach()
    return (var_embeddings * weights.unsqueeze(-1)).sum(-2), weights


class TinyTFT(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.var_proj = nn.ModuleList(nn.Linear(1, cfg["hidden"]) for _ in range(cfg["n_vars"]))
        self.vsn_grn = nn.Sequential(nn.Linear(cfg["n_vars"], cfg["hidden"]), nn.ELU(), nn.Linear(cfg["hidden"], cfg["n_vars"]))
        self.lstm = nn.LSTM(cfg["hidden"], cfg["hidden"], batch_first=True)
        self.head = nn.Linear(cfg["hidden"], cfg["horizon"])
        self.last_weights = None

    def forward(self, x):
        emb = torch.stack([proj(x[..., i:i + 1]) for i, proj in enumerate(self.var_proj)], -2)
        selected, self.last_weights = select_variables(emb, self.vsn_grn(x))
        out, _ = self.lstm(selected)
        return self.head(out[:, -1])

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self(x), y)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1, 0.8), "interval": "epoch"}}


class WeightReport(pl.Callback):
    def __init__(self):
        self.history = []

    def on_train_epoch_end(self, trainer, pl_module):
        self.history.append(pl_module.last_weights.mean(0).mean(0).tolist())


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 10, CFG["n_vars"], generator=g)
    y = x[:, -1, :1].repeat(1, CFG["horizon"]) * 2
    model = TinyTFT(CFG)
    vsn0, lstm0 = model.vsn_grn[0].weight.detach().clone(), model.lstm.weight_ih_l0.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[WeightReport()]).fit(
        model, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g))
    return {"model": model}, {"vsn_changed": not torch.equal(vsn0, model.vsn_grn[0].weight),
                              "lstm_changed": not torch.equal(lstm0, model.lstm.weight_ih_l0)}

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
