import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class MaskedSeriesModel(nn.Module):
    """Masked-patch pretraining for multichannel sensor series."""

    def __init__(self, patch=4, channels=3, dim=32, n_patches=6):
        super().__init__()
        self.patch_embed = nn.Linear(patch * channels, dim)
        self.pos = nn.Parameter(torch.zeros(1, n_patches, dim))
        self.mask_token = nn.Parameter(torch.zeros(dim))
        layer = nn.TransformerEncoderLayer(dim, 4, 2 * dim, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.decoder = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, patch * channels))
        self.patch = patch

    def patchify(self, x):
        b, t, c = x.shape
        return x.reshape(b, t // self.patch, self.patch * c)

    def forward(self, x, mask):
        tokens = self.patch_embed(self.patchify(x))
        tokens = tokens.clone()
        tokens[mask] = self.mask_token.to(tokens.dtype)
        tokens += self.pos
        h = self.encoder(tokens)
        return self.decoder(h)


def random_mask(b, n, ratio=0.5, gen=None):
    scores = torch.rand(b, n, generator=gen)
    return scores < torch.quantile(scores, ratio, dim=1, keepdim=True)


def sensor_windows(n=32, t=24):
    g = torch.Generator().manual_seed(0)
    tt = torch.arange(t).float()
    freq = torch.rand(n, 1, 3, generator=g) + 0.2
    return TensorDataset(torch.sin(tt[None, :, None] * freq) + 0.05 * torch.randn(n, t, 3, generator=g))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = MaskedSeriesModel()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    model, optimizer = fabric.setup(net, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(sensor_windows(), batch_size=8, shuffle=True))
    gen = torch.Generator().manual_seed(1)
    for epoch in range(2):
        for (x,) in loader:
            mask = random_mask(x.size(0), 6, gen=gen)
            pred = model(x, mask)
            target = net.patchify(x)
            loss = F.mse_loss(pred[mask], target[mask])
            optimizer.zero_grad()
            fabric.backward(loss)
            fabric.clip_gradients(model, optimizer, max_norm=1.0)
            optimizer.step()
    return {"model": net}

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
