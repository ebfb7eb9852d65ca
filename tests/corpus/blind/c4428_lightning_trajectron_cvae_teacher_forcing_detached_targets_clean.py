import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs": 8, "pred": 6, "hidden": 32, "z_dim": 6, "lr": 2e-3, "kl_max": 1.0, "kl_anneal": 6, "tf_ratio": 0.5}


class Encoder(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.history = nn.GRU(2, h, batch_first=True)
        self.future = nn.GRU(2, h, batch_first=True)

    def forward(self, past, future=None):
        hx = self.history(past - past[:, -1:])[1][-1]
        hy = self.future(future - past[:, -1:])[1][-1] if future is not None else None
        return hx, hy


class TrajectronCVAE(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h, z = cfg["hidden"], cfg["z_dim"]
        self.enc = Encoder(h)
        self.p_z = nn.Linear(h, 2 * z)
        self.q_z = nn.Linear(2 * h, 2 * z)
        self.dec_cell = nn.GRUCell(2 + z, h)
        self.dec_init = nn.Linear(h + z, h)
        self.dec_out = nn.Linear(h, 2)

    def decode(self, hx, z, last, future=None):
        h = torch.tanh(self.dec_init(torch.cat([hx, z], -1)))
        pos, outs = last, []
        for t in range(self.cfg["pred"]):
            h = self.dec_cell(torch.cat([pos, z], -1), h)
            pos = pos + self.dec_out(h)
            outs.append(pos)
            if future is not None and torch.rand(()) < self.cfg["tf_ratio"]:
                pos = future[:, t].detach()          # teacher forcing: feed the ground-truth position
        return torch.stack(outs, 1)

    def training_step(self, batch, batch_idx):
        past, future = batch
        hx, hy = self.enc(past, future)
        mu_p, lv_p = self.p_z(hx).chunk(2, -1)
        mu_q, lv_q = self.q_z(torch.cat([hx, hy], -1)).chunk(2, -1)
        z = mu_q + torch.randn_like(mu_q) * (0.5 * lv_q).exp()
        pred = self.decode(hx, z, past[:, -1], future)
        recon = F.mse_loss(pred, future)
        kl = 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1).sum(-1).mean()
        beta = self.cfg["kl_max"] * min(1.0, self.global_step / self.cfg["kl_anneal"])
        self.log_dict({"recon": recon.item(), "kl": kl.item(), "beta": beta})
        return recon + beta * kl

    def validation_step(self, batch, batch_idx):
        past, future = batch
        hx, _ = self.enc(past)
        mu_p, _ = self.p_z(hx).chunk(2, -1)
        ade = (self.decode(hx, mu_p, past[:, -1]) - future).norm(dim=-1).mean()
        self.log("val/ade", ade.item())

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.99),
                                                   "interval": "step"}}


def nuscenes_like(cfg, n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(n, 1, 2, generator=g) * 0.4
    t = torch.arange(cfg["obs"] + cfg["pred"]).float()[None, :, None]
    traj = t * v + 0.05 * torch.randn(n, t.shape[1], 2, generator=g)
    return DataLoader(TensorDataset(traj[:, :cfg["obs"]], traj[:, cfg["obs"]:]), batch_size=8, shuffle=seed == 0)


def main():
    pl.seed_everything(0)
    model = TrajectronCVAE(CFG)
    dec0 = model.dec_out.weight.detach().clone()
    q0 = model.q_z.weight.detach().clone()
    fut0 = model.enc.future.weight_ih_l0.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, nuscenes_like(CFG), nuscenes_like(CFG, 8, 1))
    return {"model": model}, {
        "decoder_changed": not torch.equal(dec0, model.dec_out.weight),
        "posterior_changed": not torch.equal(q0, model.q_z.weight),
        "future_encoder_changed": not torch.equal(fut0, model.enc.future.weight_ih_l0),
    }

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
