import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class SlotAttention(nn.Module):
    def __init__(self, num_slots=3, dim=16, iters=2):
        super().__init__()
        self.num_slots, self.iters, self.scale = num_slots, iters, dim ** -0.5
        self.register_buffer("slots_mu", torch.randn(1, 1, dim))
        self.register_buffer("slots_log_sigma", torch.zeros(1, 1, dim))
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.gru = nn.GRUCell(dim, dim)
        self.norm_inputs = nn.LayerNorm(dim)

    def forward(self, inputs):
        b, _, d = inputs.shape
        noise = torch.randn(b, self.num_slots, d)
        slots = self.slots_mu + self.slots_log_sigma.exp() * noise
        inputs = self.norm_inputs(inputs)
        k, v = self.to_k(inputs), self.to_v(inputs)
        for _ in range(self.iters):
            q = self.to_q(slots)
            attn = torch.softmax(torch.einsum("bid,bjd->bij", q, k) * self.scale, dim=1) + 1e-8
            attn = attn / attn.sum(dim=-1, keepdim=True)
            updates = torch.einsum("bij,bjd->bid", attn, v)
            slots = self.gru(updates.reshape(-1, d), slots.reshape(-1, d)).reshape(b, -1, d)
        return slots


class ObjectAutoencoder(pl.LightningModule):
    def __init__(self, n_points=10, in_dim=4, dim=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.slot_attn = SlotAttention(dim=dim)
        self.decoder = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, n_points * in_dim))
        self.n_points, self.in_dim = n_points, in_dim

    def forward(self, x):
        slots = self.slot_attn(self.encoder(x))
        return self.decoder(slots).mean(1).view(-1, self.n_points, self.in_dim)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        return F.mse_loss(self(x), x)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-3)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 10, 4, generator=g)), batch_size=8, shuffle=True, generator=g)
    model = ObjectAutoencoder()
    mu0 = model.slot_attn.slots_mu.clone()
    dec0 = model.decoder[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    facts = {
        "slots_mu_changed": not torch.equal(mu0, model.slot_attn.slots_mu),
        "slots_mu_is_parameter": any(p is model.slot_attn.slots_mu for p in model.parameters()),
        "decoder_changed": not torch.equal(dec0, model.decoder[0].weight),
    }
    return {"model": model, "slots_mu": model.slot_attn.slots_mu, "slots_log_sigma": model.slot_attn.slots_log_sigma}, facts

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
