import torch
import torch.nn as nn
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def corrupt(x, mask_ratio=0.3):
    """Zero a random subset of features; the model must reconstruct them."""
    mask = torch.rand_like(x) < mask_ratio
    x_in = x.clone()
    x_in[mask] = 0.0
    return x_in, mask


class MaskedFeatureAutoencoder(nn.Module):
    def __init__(self, n_features=16, hidden=32, code=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, code))
        self.decoder = nn.Sequential(nn.Linear(code, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, n_features))

    def forward(self, x_in):
        return self.decoder(self.encoder(x_in))


def masked_reconstruction_loss(recon, x, mask):
    err = (recon - x).pow(2)
    err.mul_(mask.float())
    return err.sum() / mask.sum().clamp_min(1)


def train(fabric, model, optimizer, loader, epochs=2):
    model.train()
    losses = []
    for _ in range(epochs):
        for (x,) in loader:
            x_in, mask = corrupt(x)
            loss = masked_reconstruction_loss(model(x_in), x, mask)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            losses.append(loss.item())
    return losses


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(14)
    g = torch.Generator().manual_seed(14)
    base = torch.randn(96, 4, generator=g)
    x = torch.cat([base, base @ torch.randn(4, 12, generator=g)], dim=1)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(x), batch_size=16, shuffle=True, generator=g))
    model = MaskedFeatureAutoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    model, optimizer = fabric.setup(model, optimizer)
    enc0 = model.module.encoder[0].weight.detach().clone()
    losses = train(fabric, model, optimizer, loader)
    return {"model": model.module}, {"encoder_changed": not torch.equal(enc0, model.module.encoder[0].weight),
                                     "loss_decreased": losses[-1] < losses[0]}

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
