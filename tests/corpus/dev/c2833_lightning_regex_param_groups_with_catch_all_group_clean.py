import re
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

OPTIM_CONFIG = {
    "lr": 1e-2,
    "weight_decay": 0.05,
    "param_groups": [
        {"param_str_match": r"(^|\.)ln|norm", "lr": 5e-3, "weight_decay": 0.0},
        {"param_str_match": r"\.bias$", "weight_decay": 0.0},
        {"param_str_match": r"^patch_embed\.", "lr": 2e-3},
    ],
}


class MixerBlock(nn.Module):
    def __init__(self, tokens, dim):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.token_mix = nn.Linear(tokens, tokens)
        self.ln2 = nn.LayerNorm(dim)
        self.channel_mix = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.token_mix(self.ln1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mix(self.ln2(x))


class TinyMixer(nn.Module):
    def __init__(self, patches=4, patch_dim=12, dim=16, n_classes=3):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        self.blocks = nn.Sequential(MixerBlock(patches, dim), MixerBlock(patches, dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.head(self.norm(self.blocks(self.patch_embed(x))).mean(dim=1))


def build_param_groups(model, config):
    param_dict = OrderedDict(model.named_parameters())
    groups = []
    for group_cfg in config["param_groups"]:
        group_cfg = dict(group_cfg)
        pattern = re.compile(group_cfg.pop("param_str_match"))
        names = [n for n in param_dict if pattern.search(n)]
        if names:
            groups.append({"params": [param_dict.pop(n) for n in names], **group_cfg})
    if param_dict:
        groups.append({"params": list(param_dict.values())})
    return groups


class MixerModule(pl.LightningModule):
    def __init__(self, config=OPTIM_CONFIG):
        super().__init__()
        self.model = TinyMixer()
        self.config = config

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.model(x), y, label_smoothing=0.05)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        groups = build_param_groups(self.model, self.config)
        return torch.optim.AdamW(groups, lr=self.config["lr"], weight_decay=self.config["weight_decay"])


def make_loader(n=48):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, 12, generator=g)
    y = (x.mean(dim=(1, 2)) * 10).long().clamp(-1, 1) + 1
    return DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = MixerModule()
    before = {n: p.detach().clone() for n, p in module.model.named_parameters()}
    pl.Trainer(max_epochs=2, logger=False).fit(module, make_loader())
    unchanged = sorted(n for n, p in module.model.named_parameters() if torch.equal(before[n], p))
    grouped = sum(len(g["params"]) for g in module.optimizers().param_groups)
    facts = {"unchanged_params": unchanged, "grouped_params": grouped,
             "total_params": len(list(module.model.parameters()))}
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
