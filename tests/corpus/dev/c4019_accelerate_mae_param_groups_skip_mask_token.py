import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        x = x + self.proj(F.scaled_dot_product_attention(q, k, v))
        return x + self.mlp(self.norm2(x))


class TinyMAE(nn.Module):
    def __init__(self, patch_dim=16, n_patches=8, d=16, dec_d=12):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, d)
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, n_patches, d))
        self.encoder = nn.ModuleList([Block(d), Block(d)])
        self.encoder_norm = nn.LayerNorm(d)
        self.decoder_embed = nn.Linear(d, dec_d)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec_d))
        self.decoder = Block(dec_d)
        self.decoder_pred = nn.Linear(dec_d, patch_dim)

    def forward(self, patches, mask_ratio=0.5):
        b, n, _ = patches.shape
        keep = int(n * (1 - mask_ratio))
        ids = torch.rand(b, n).argsort(1)
        ids_keep, ids_restore = ids[:, :keep], ids.argsort(1)
        x = self.patch_embed(patches) + self.pos_embed
        x = x.gather(1, ids_keep[..., None].expand(-1, -1, x.size(-1)))
        for blk in self.encoder:
            x = blk(x)
        x = self.decoder_embed(self.encoder_norm(x))
        x = torch.cat([x, self.mask_token.expand(b, n - keep, -1)], dim=1)
        x = x.gather(1, ids_restore[..., None].expand(-1, -1, x.size(-1)))
        pred = self.decoder_pred(self.decoder(x))
        mask = torch.ones(b, n)
        mask[:, :keep] = 0
        mask = mask.gather(1, ids_restore)
        return (((pred - patches) ** 2).mean(-1) * mask).sum() / mask.sum()


def build_optimizer(model, cfg):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.endswith(".weight") and p.ndim >= 2:
            decay.append(p)
        elif name.endswith(".bias") or "norm" in name:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": cfg["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg["lr"], betas=(0.9, 0.95))


def train_one_epoch(model, loader, optimizer, accelerator):
    model.train()
    for (patches,) in loader:
        loss = model(patches)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    cfg = {"lr": 3e-3, "weight_decay": 0.05}
    accelerator = Accelerator()
    model = TinyMAE()
    optimizer = build_optimizer(model, cfg)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 8, 16, generator=g)), batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    tok0 = model.mask_token.detach().clone()
    enc0 = model.encoder[0].qkv.weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "mask_token_changed": not torch.equal(tok0, model.mask_token),
        "encoder_changed": not torch.equal(enc0, model.encoder[0].qkv.weight),
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
