import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class DeepARLite(nn.Module):
    def __init__(self, n_features=3, hidden=16):
        super().__init__()
        self.rnn = nn.LSTM(n_features + 1, hidden, batch_first=True)
        self.mu = nn.Linear(hidden, 1)
        self.sigma = nn.Linear(hidden, 1)

    def forward(self, covariates, lagged):
        h, _ = self.rnn(torch.cat([covariates, lagged.unsqueeze(-1)], dim=-1))
        return self.mu(h).squeeze(-1), F.softplus(self.sigma(h)).squeeze(-1) + 1e-3


class ForecastModel(pl.LightningModule):
    def __init__(self, accumulate=2, lr=1e-2):
        super().__init__()
        self.automatic_optimization = False
        self.net = DeepARLite()
        self.accumulate, self.lr = accumulate, lr

    def gaussian_nll(self, batch):
        covariates, target = batch
        lagged = F.pad(target[:, :-1], (1, 0))
        mu, sigma = self.net(covariates, lagged)
        return F.gaussian_nll_loss(mu, target, sigma ** 2)

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        loss = self.gaussian_nll(batch) / self.accumulate
        self.manual_backward(loss)
        if (batch_idx + 1) % self.accumulate == 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), max_norm=5.0)
            opt.zero_grad()
            opt.step()
        self.log("train/nll", loss * self.accumulate)

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    covariates = torch.randn(16, 10, 3, generator=g)
    target = covariates.sum(-1) + 0.1 * torch.randn(16, 10, generator=g)
    model = ForecastModel()
    before = model.net.rnn.weight_ih_l0.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(covariates, target), batch_size=4))
    return {}, {"rnn_changed": not torch.equal(before, model.net.rnn.weight_ih_l0)}

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
