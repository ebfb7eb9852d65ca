import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, Dataset

FEWSHOT = {"n_way": 3, "k_shot": 2, "n_query": 3, "n_classes": 5, "feat": 16, "episodes": 6, "lr": 1e-3}


class Embedder(nn.Module):
    def __init__(self, d_in, d):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, d))
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return self.proj(F.relu(self.backbone(x)))


class EpisodeDataset(Dataset):
    def __init__(self, cfg, n_episodes):
        self.cfg, self.n = cfg, n_episodes
        g = torch.Generator().manual_seed(0)
        self.centers = torch.randn(cfg["n_classes"], cfg["feat"], generator=g) * 2

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        c = self.cfg
        g = torch.Generator().manual_seed(100 + i)
        classes = torch.randperm(c["n_classes"], generator=g)[: c["n_way"]]
        per = c["k_shot"] + c["n_query"]
        x = self.centers[classes].repeat_interleave(per, 0) + torch.randn(c["n_way"] * per, c["feat"], generator=g)
        y = torch.arange(c["n_way"]).repeat_interleave(per)
        support = (torch.arange(len(y)) % per) < c["k_shot"]
        return x[support], y[support], x[~support], y[~support], classes


class ProtoLearner(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.embedder = Embedder(cfg["feat"], 16)
        self.prototype_cache = {}

    def class_prototypes(self, z_support, support_y, classes):
        protos = []
        for k, c in enumerate(classes.tolist()):
            if c not in self.prototype_cache:
                self.prototype_cache[c] = z_support[support_y == k].mean(0)
            protos.append(self.prototype_cache[c])
        return torch.stack(protos)

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        xs, ys, xq, yq, classes = [b.squeeze(0) for b in batch]
        protos = self.class_prototypes(self.embedder(xs), ys, classes)
        logits = -torch.cdist(self.embedder(xq), protos).pow(2)
        loss = F.cross_entropy(logits, yq)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log("episode_acc", (logits.argmax(-1) == yq).float().mean().item())

    def validation_step(self, batch, batch_idx):
        xs, ys, xq, yq, classes = [b.squeeze(0) for b in batch]
        z_s = self.embedder(xs)
        protos = torch.stack([z_s[ys == k].mean(0) for k in range(len(classes))])
        acc = (torch.cdist(self.embedder(xq), protos).argmin(-1) == yq).float().mean()
        self.log("val_episode_acc", acc.item())

    def on_train_epoch_end(self):
        self.print(f"cached prototypes for classes {sorted(self.prototype_cache)}")

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])


def episode_loaders(cfg):
    train = DataLoader(EpisodeDataset(cfg, cfg["episodes"]), batch_size=1)
    val = DataLoader(EpisodeDataset(cfg, 2), batch_size=1)
    return train, val


def main():
    pl.seed_everything(0)
    model = ProtoLearner(FEWSHOT)
    w0 = model.embedder.proj.weight.detach().clone()
    train_loader, val_loader = episode_loaders(FEWSHOT)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, train_loader, val_loader)
    return {"model": model}, {"proj_changed": not torch.equal(w0, model.embedder.proj.weight)}

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
