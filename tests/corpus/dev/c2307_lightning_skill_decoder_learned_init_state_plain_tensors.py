import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LearnedInitializer(nn.Module):
    """Learned initial hidden state for the skill decoder LSTM."""

    def __init__(self, hidden, n_layers=1):
        super().__init__()
        self.h0 = torch.zeros(n_layers, 1, hidden, requires_grad=True)
        self.c0 = torch.zeros(n_layers, 1, hidden, requires_grad=True)

    def forward(self, batch_size):
        return self.h0.expand(-1, batch_size, -1).contiguous(), self.c0.expand(-1, batch_size, -1).contiguous()


class SkillDecoder(nn.Module):
    def __init__(self, z_dim=4, act_dim=3, hidden=16):
        super().__init__()
        self.init_state = LearnedInitializer(hidden)
        self.z_proj = nn.Linear(z_dim, hidden)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, act_dim)

    def forward(self, z, horizon):
        inp = self.z_proj(z).unsqueeze(1).expand(-1, horizon, -1)
        h, _ = self.lstm(inp, self.init_state(z.shape[0]))
        return self.out(h)


class SkillPrior(pl.LightningModule):
    def __init__(self, horizon=5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(horizon * 3, 16), nn.ReLU(), nn.Linear(16, 4))
        self.decoder = SkillDecoder()
        self.horizon = horizon

    def training_step(self, batch, batch_idx):
        (actions,) = batch
        z = self.encoder(actions.flatten(1))
        recon = self.decoder(z, self.horizon)
        return F.mse_loss(recon, actions)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 5, 3)), batch_size=8)
    model = SkillPrior()
    h0_before = model.decoder.init_state.h0.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    init = model.decoder.init_state
    return ({"h0": init.h0, "model": model},
            {"h0_changed": not torch.equal(h0_before, init.h0.detach()),
             "n_registered_params": len(list(model.parameters()))})

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
