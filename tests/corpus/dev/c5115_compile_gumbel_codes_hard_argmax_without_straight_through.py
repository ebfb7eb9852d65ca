import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"in_dim": 24, "groups": 4, "codes": 8, "tau_start": 1.0, "tau_min": 0.5, "anneal": 0.9, "lr": 3e-3, "epochs": 2}


def gumbel_hard(logits, tau, gen=None):
    """Draw one-hot codes with the Gumbel-max trick (temperature-scaled)."""
    u = torch.rand(logits.shape, generator=gen).clamp_(1e-9, 1 - 1e-9)
    y = (logits - torch.log(-torch.log(u))) / tau
    return F.one_hot(y.argmax(-1), logits.size(-1)).float()


class DiscreteAutoencoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.Sequential(nn.Linear(cfg["in_dim"], 64), nn.ReLU(), nn.Linear(64, cfg["groups"] * cfg["codes"]))
        self.decoder = nn.Sequential(nn.Linear(cfg["groups"] * cfg["codes"], 64), nn.ReLU(), nn.Linear(64, cfg["in_dim"]))
        self.tau = cfg["tau_start"]

    def forward(self, x):
        logits = self.encoder(x).view(-1, self.cfg["groups"], self.cfg["codes"])
        z = gumbel_hard(logits, self.tau)
        return self.decoder(z.flatten(1)), logits


def train(model, compiled, loader, optimizer, scheduler, epochs):
    for _ in range(epochs):
        for (x,) in loader:
            recon, _ = compiled(x)
            loss = F.mse_loss(recon, x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.tau = max(model.cfg["tau_min"], model.tau * model.cfg["anneal"])


def main():
    torch.manual_seed(0)
    model = DiscreteAutoencoder(CFG)
    compiled = torch.compile(model, backend="eager")
    optimizer = torch.optim.Adam(model.parameters(), lr=CFG["lr"])
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(64, CFG["in_dim"], generator=g)), batch_size=16, shuffle=True,
                        generator=g)
    enc0, dec0 = model.encoder[0].weight.detach().clone(), model.decoder[0].weight.detach().clone()
    train(model, compiled, loader, optimizer, scheduler, CFG["epochs"])
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder[0].weight),
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
