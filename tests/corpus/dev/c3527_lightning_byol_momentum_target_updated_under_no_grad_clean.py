import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def mlp(d_in, hidden, d_out):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class Encoder(nn.Module):
    def __init__(self, d_in=16, hidden=32, rep=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, rep))

    def forward(self, x):
        return self.net(x)


def augment(x, g=None):
    noise = 0.1 * torch.randn_like(x)
    keep = (torch.rand_like(x) > 0.2).float()
    return x * keep + noise


class BYOL(pl.LightningModule):
    def __init__(self, lr=1e-3, base_momentum=0.99):
        super().__init__()
        self.online_encoder = Encoder()
        self.online_projector = mlp(16, 32, 8)
        self.predictor = mlp(8, 32, 8)
        self.target_encoder = copy.deepcopy(self.online_encoder)
        self.target_projector = copy.deepcopy(self.online_projector)
        for module in (self.target_encoder, self.target_projector):
            module.requires_grad_(False)
        self.base_momentum = base_momentum
        self.lr = lr

    @staticmethod
    def regression_loss(p, z):
        return 2 - 2 * F.cosine_similarity(p, z, dim=-1).mean()

    def training_step(self, batch, batch_idx):
        (x,) = batch
        v1, v2 = augment(x), augment(x)
        p1 = self.predictor(self.online_projector(self.online_encoder(v1)))
        p2 = self.predictor(self.online_projector(self.online_encoder(v2)))
        with torch.no_grad():
            z1 = self.target_projector(self.target_encoder(v1))
            z2 = self.target_projector(self.target_encoder(v2))
        loss = self.regression_loss(p1, z2) + self.regression_loss(p2, z1)
        self.log("byol_loss", loss)
        return loss

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        m = self.base_momentum
        pairs = [(self.online_encoder, self.target_encoder), (self.online_projector, self.target_projector)]
        for online, target in pairs:
            for p_o, p_t in zip(online.parameters(), target.parameters()):
                p_t.mul_(m).add_(p_o.detach(), alpha=1 - m)
            for b_o, b_t in zip(online.buffers(), target.buffers()):
                b_t.copy_(b_o)

    def configure_optimizers(self):
        params = list(self.online_encoder.parameters()) + list(self.online_projector.parameters()) + list(self.predictor.parameters())
        return torch.optim.Adam(params, lr=self.lr)


def make_loader(n=32, bs=8):
    g = torch.Generator().manual_seed(13)
    return DataLoader(TensorDataset(torch.randn(n, 16, generator=g)), batch_size=bs, shuffle=True, drop_last=True)


def main():
    pl.seed_everything(0)
    model = BYOL()
    on0 = model.online_encoder.net[0].weight.detach().clone()
    tg0 = model.target_encoder.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False).fit(model, make_loader())
    return {"online_encoder": model.online_encoder, "predictor": model.predictor}, {
        "online_changed": not torch.equal(on0, model.online_encoder.net[0].weight),
        "target_followed_online": not torch.equal(tg0, model.target_encoder.net[0].weight),
        "target_has_grad": model.target_encoder.net[0].weight.grad is not None,
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
