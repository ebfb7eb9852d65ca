import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, ch=3, width=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(ch, width, 3, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.features(x)


def class_prototypes(embeddings, labels, num_classes):
    onehot = F.one_hot(labels, num_classes).float()
    counts = onehot.sum(0).clamp(min=1)
    return (onehot.t() @ embeddings) / counts[:, None]


class PrototypeAlignment(pl.LightningModule):
    def __init__(self, num_classes=4, width=16, proto_weight=0.5):
        super().__init__()
        self.encoder = Encoder(width=width)
        self.classifier = nn.Linear(width, num_classes)
        self.proto_head = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 8))
        self.num_classes, self.proto_weight = num_classes, proto_weight
        self.proto_src = None
        self.proto_tgt = None

    def alignment_loss(self):
        self.proto_src.detach_()
        self.proto_tgt.detach_()
        return 1 - F.cosine_similarity(self.proto_src, self.proto_tgt, dim=-1).mean()

    def training_step(self, batch, batch_idx):
        xs, ys, xt = batch
        fs, ft = self.encoder(xs), self.encoder(xt)
        ce = F.cross_entropy(self.classifier(fs), ys)
        with torch.no_grad():
            pseudo = self.classifier(ft).argmax(-1)
        self.proto_src = class_prototypes(self.proto_head(fs), ys, self.num_classes)
        self.proto_tgt = class_prototypes(self.proto_head(ft), pseudo, self.num_classes)
        loss = ce + self.proto_weight * self.alignment_loss()
        self.log_dict({"ce": ce.item(), "loss": loss.item()})
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-2, momentum=0.9)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    xs, ys = torch.rand(16, 3, 16, 16, generator=g), torch.randint(0, 4, (16,), generator=g)
    xt = torch.rand(16, 3, 16, 16, generator=g) * 0.8 + 0.1
    model = PrototypeAlignment()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(xs, ys, xt), batch_size=8, shuffle=True))
    return {"proto_head": model.proto_head, "encoder": model.encoder}

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
