import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset


class RecurrentPolicy(nn.Module):
    def __init__(self, obs_dim=6, act_dim=2, hidden=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU())
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.action_head = nn.Linear(hidden, act_dim)

    def step(self, obs, hiddens=None):
        out, hiddens = self.lstm(self.encoder(obs), hiddens)
        return self.action_head(out), hiddens


class DemoChunks(Dataset):
    """Consecutive chunks of a few long demonstrations; chunk i of every demo forms batch i."""

    def __init__(self, n_demos=4, n_chunks=5, chunk=4):
        g = torch.Generator().manual_seed(0)
        t = n_chunks * chunk
        self.obs = torch.randn(n_demos, t, 6, generator=g).cumsum(dim=1) * 0.1
        self.actions = torch.tanh(self.obs[..., :2] - self.obs[..., 2:4])
        self.n_chunks, self.chunk = n_chunks, chunk

    def __len__(self):
        return self.n_chunks

    def __getitem__(self, i):
        s = slice(i * self.chunk, (i + 1) * self.chunk)
        return self.obs[:, s], self.actions[:, s]


class BehaviourCloning(pl.LightningModule):
    def __init__(self, lr=5e-3, reset_every=None):
        super().__init__()
        self.automatic_optimization = False
        self.policy = RecurrentPolicy()
        self.hiddens = None
        self.lr, self.reset_every = lr, reset_every

    def on_train_epoch_start(self):
        self.hiddens = None

    def training_step(self, batch, batch_idx):
        obs, actions = batch
        obs, actions = obs.squeeze(0), actions.squeeze(0)
        if self.reset_every and batch_idx % self.reset_every == 0:
            self.hiddens = None
        opt = self.optimizers()
        pred, hiddens = self.policy.step(obs, self.hiddens)
        self.hiddens = tuple(h.detach() for h in hiddens)
        loss = F.mse_loss(pred, actions)
        opt.zero_grad()
        self.manual_backward(loss)
        self.clip_and_step(opt)
        self.log("train/bc_mse", loss, prog_bar=True)

    def clip_and_step(self, opt, max_norm=1.0):
        torch.nn.utils.clip_grad_norm_(self.policy.parameters(), max_norm)
        opt.step()

    def configure_optimizers(self):
        return torch.optim.Adam(self.policy.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    module = BehaviourCloning()
    lstm_before = module.policy.lstm.weight_hh_l0.detach().clone()
    loader = DataLoader(DemoChunks(), batch_size=1, shuffle=False)
    trainer = pl.Trainer(max_epochs=2, logger=False)
    trainer.fit(module, loader)
    facts = {"lstm_changed": not torch.equal(lstm_before, module.policy.lstm.weight_hh_l0),
             "steps": trainer.global_step, "state_carried": module.hiddens is not None}
    return {"policy": module.policy}, facts

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
