import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"obs": 8, "pred": 6, "hidden": 32, "z_dim": 8, "lr_enc": 1e-3, "lr_dec": 2e-3, "kl_max": 1.0, "kl_anneal": 8}


class HistoryEncoder(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.gru = nn.GRU(2, h, batch_first=True)

    def forward(self, past):
        return self.gru(past - past[:, -1:])[1][-1]


class LatentNets(nn.Module):
    """p(z | x) and q(z | x, y) heads of the CVAE (Trajectron-style)."""

    def __init__(self, h, z, pred):
        super().__init__()
        self.future_enc = nn.GRU(2, h, batch_first=True)
        self.prior = nn.Linear(h, 2 * z)
        self.posterior = nn.Linear(2 * h, 2 * z)

    def forward(self, hx, future, last):
        hy = self.future_enc(future - last)[1][-1]
        return self.prior(hx).chunk(2, -1), self.posterior(torch.cat([hx, hy], -1)).chunk(2, -1)


class TrajectoryDecoder(nn.Module):
    def __init__(self, h, z, pred):
        super().__init__()
        self.pred = pred
        self.cell = nn.GRUCell(2 + z, h)
        self.init = nn.Linear(h + z, h)
        self.out = nn.Linear(h, 2)

    def forward(self, hx, z):
        h = torch.tanh(self.init(torch.cat([hx, z], -1)))
        vel, outs = torch.zeros(hx.shape[0], 2), []
        for _ in range(self.pred):
            h = self.cell(torch.cat([vel, z], -1), h)
            vel = self.out(h)
            outs.append(vel)
        return torch.stack(outs, 1).cumsum(1)


def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1).sum(-1).mean()


class TrajectoryCVAE(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.cfg = cfg
        self.encoder = HistoryEncoder(cfg["hidden"])
        self.latent = LatentNets(cfg["hidden"], cfg["z_dim"], cfg["pred"])
        self.decoder = TrajectoryDecoder(cfg["hidden"], cfg["z_dim"], cfg["pred"])

    def kl_weight(self):
        return self.cfg["kl_max"] * min(1.0, self.global_step / self.cfg["kl_anneal"])

    def training_step(self, batch, batch_idx):
        opt_enc, opt_dec = self.optimizers()
        past, future = batch
        hx = self.encoder(past)
        (mu_p, lv_p), (mu_q, lv_q) = self.latent(hx, future, past[:, -1:])
        z = mu_q + torch.randn_like(mu_q) * (0.5 * lv_q).exp()
        pred = past[:, -1:] + self.decoder(hx, z)
        recon = F.mse_loss(pred, future)
        kl = gaussian_kl(mu_q, lv_q, mu_p, lv_p)
        loss = recon + self.kl_weight() * kl
        opt_enc.zero_grad()
        opt_dec.zero_grad()
        self.manual_backward(loss)
        opt_enc.step()
        opt_dec.step()
        self.log_dict({"recon": recon.item(), "kl": kl.item()})

    def configure_optimizers(self):
        enc_params = list(self.encoder.parameters()) + list(self.latent.parameters())
        return [torch.optim.Adam(enc_params, lr=self.cfg["lr_enc"]),
                torch.optim.Adam(self.latent.parameters(), lr=self.cfg["lr_dec"])]


def eth_ucy_like(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    v = torch.randn(n, 1, 2, generator=g) * 0.4
    t = torch.arange(cfg["obs"] + cfg["pred"]).float()[None, :, None]
    traj = t * v + 0.1 * torch.sin(t * torch.rand(n, 1, 1, generator=g))
    return DataLoader(TensorDataset(traj[:, :cfg["obs"]], traj[:, cfg["obs"]:]), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = TrajectoryCVAE(CFG)
    dec0 = model.decoder.out.weight.detach().clone()
    enc0 = model.encoder.gru.weight_ih_l0.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, eth_ucy_like(CFG))
    return {"model": model}, {
        "decoder_changed": not torch.equal(dec0, model.decoder.out.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.gru.weight_ih_l0),
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
