import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class TokenScorer(nn.Module):
    """Predicts how informative each token of one modality is (sigmoid score in [0, 1])."""

    def __init__(self, dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, dim // 2), nn.GELU(), nn.Linear(dim // 2, 1))

    def forward(self, tokens):
        return torch.sigmoid(self.mlp(tokens)).squeeze(-1)


class FusionBlock(nn.Module):
    def __init__(self, dim, threshold=0.5):
        super().__init__()
        self.threshold = threshold
        self.score_rgb, self.score_depth = TokenScorer(dim), TokenScorer(dim)
        self.mix = nn.TransformerEncoderLayer(dim, nhead=2, dim_feedforward=2 * dim, dropout=0.0, batch_first=True)

    def forward(self, rgb, depth):
        keep_rgb = (self.score_rgb(rgb) >= self.threshold).float().unsqueeze(-1)
        keep_depth = (self.score_depth(depth) >= self.threshold).float().unsqueeze(-1)
        rgb = keep_rgb * rgb + (1 - keep_rgb) * depth
        depth = keep_depth * depth + (1 - keep_depth) * rgb
        fused = self.mix(torch.cat([rgb, depth], dim=1))
        n = rgb.shape[1]
        return fused[:, :n], fused[:, n:]


class RGBDSceneClassifier(nn.Module):
    def __init__(self, patch_dim=12, dim=16, n_classes=4):
        super().__init__()
        self.rgb_proj, self.depth_proj = nn.Linear(patch_dim, dim), nn.Linear(patch_dim // 3, dim)
        self.fusion = FusionBlock(dim)
        self.head = nn.Linear(2 * dim, n_classes)

    def forward(self, rgb_patches, depth_patches):
        rgb, depth = self.fusion(self.rgb_proj(rgb_patches), self.depth_proj(depth_patches))
        return self.head(torch.cat([rgb.mean(1), depth.mean(1)], dim=-1))


class SceneModule(pl.LightningModule):
    def __init__(self, lr=3e-3):
        super().__init__()
        self.model = RGBDSceneClassifier()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        rgb, depth, y = batch
        loss = F.cross_entropy(self.model(rgb, depth), y)
        self.log("train/ce", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=0.05)


def make_loader(n=24, tokens=6):
    g = torch.Generator().manual_seed(0)
    rgb = torch.randn(n, tokens, 12, generator=g)
    depth = torch.randn(n, tokens, 4, generator=g)
    y = (rgb[:, :, 0].mean(1) > 0).long() * 2 + (depth[:, :, 0].mean(1) > 0).long()
    return DataLoader(TensorDataset(rgb, depth, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = SceneModule()
    scorer_before = module.model.fusion.score_rgb.mlp[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(module, make_loader())
    facts = {"rgb_scorer_changed": not torch.equal(scorer_before, module.model.fusion.score_rgb.mlp[0].weight)}
    return {"model": module.model}, facts

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
