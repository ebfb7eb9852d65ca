import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class TinyVLM(nn.Module):
    def __init__(self, vision_dim=12, d_model=16, vocab=20):
        super().__init__()
        self.vision_tower = nn.Sequential(nn.Linear(vision_dim, vision_dim), nn.GELU())
        self.projector = nn.Sequential(nn.Linear(vision_dim, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        self.embed = nn.Embedding(vocab, d_model)
        self.lm = nn.GRU(d_model, d_model, batch_first=True)
        self.lm_head = nn.Linear(d_model, vocab)

    def forward(self, image_feats, ids):
        prefix = self.projector(self.vision_tower(image_feats)).unsqueeze(1)
        h, _ = self.lm(torch.cat([prefix, self.embed(ids)], dim=1))
        return self.lm_head(h[:, :-1])


def apply_freeze(model, cfg):
    model.requires_grad_(False)
    for name in cfg["trainable_modules"]:
        getattr(model, name).requires_grad = True


class ProjectorPretraining(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.vlm = TinyVLM()
        apply_freeze(self.vlm, cfg)
        self.lr = cfg["lr"]

    def training_step(self, batch, batch_idx):
        image_feats, ids = batch
        logits = self.vlm(image_feats, ids)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids.reshape(-1))
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=self.lr)


def main():
    pl.seed_everything(0)
    cfg = {"trainable_modules": ["projector"], "lr": 3e-3}
    module = ProjectorPretraining(cfg)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(32, 12, generator=g), torch.randint(0, 20, (32, 5), generator=g)), batch_size=8)
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, loader)
    return {"model": module}

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
