import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.patch_embed = nn.Linear(12, dim)
        layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, 1)

    def forward(self, patches):
        return self.blocks(self.patch_embed(patches))


class ContextAutoencoder(nn.Module):
    """CAE: encode visible patches, regress masked-patch latents from them, align with the encoder on masked patches."""

    def __init__(self, dim=16):
        super().__init__()
        self.encoder = Encoder(dim)
        self.regressor = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.mask_queries = nn.Parameter(torch.zeros(1, 1, dim))
        self.decoder = nn.Linear(dim, 12)

    def forward(self, patches, visible_idx, masked_idx):
        b = patches.shape[0]
        vis = torch.gather(patches, 1, visible_idx[..., None].expand(-1, -1, 12))
        msk = torch.gather(patches, 1, masked_idx[..., None].expand(-1, -1, 12))
        z_vis = self.encoder(vis)
        queries = self.mask_queries.expand(b, masked_idx.shape[1], -1)
        z_pred, _ = self.regressor(queries, z_vis, z_vis)
        with torch.no_grad():
            z_target = self.encoder(msk)
        align = F.mse_loss(z_pred, z_target)
        recon = F.mse_loss(self.decoder(z_pred), msk)
        return recon + 2.0 * align


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = ContextAutoencoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.2, total_iters=3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(16, 8, 12, generator=g)), batch_size=4,
                                                 shuffle=True, generator=g))
    w0 = model.encoder.patch_embed.weight.detach().clone()
    for epoch in range(2):
        for (patches,) in loader:
            perm = torch.rand(patches.shape[0], 8).argsort(1)
            loss = model(patches, perm[:, :5], perm[:, 5:])
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            scheduler.step()
    return {"model": model.module}, {"encoder_changed": not torch.equal(w0, model.encoder.patch_embed.weight)}

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
