import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from lightning.pytorch import Callback
from torch.utils.data import DataLoader, TensorDataset


class NewsEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())

    def forward(self, tokens):
        return self.ff(self.embed(tokens))


class Classifier(pl.LightningModule):
    def __init__(self, num_labels=4, lr=5e-2):
        super().__init__()
        self.encoder = NewsEncoder()
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Linear(16, num_labels))
        self.num_labels, self.lr = num_labels, lr

    def training_step(self, batch, batch_idx):
        tokens, y = batch
        loss = F.cross_entropy(self.classifier(self.encoder(tokens)), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


class FinetuneLastLayer(Callback):
    """Transfer to a new label set: freeze the encoder and replace the final layer."""

    def __init__(self, new_num_labels):
        self.new_num_labels = new_num_labels

    def on_fit_start(self, trainer, pl_module):
        for p in pl_module.encoder.parameters():
            p.requires_grad = False
        features = list(pl_module.classifier.children())[:-1]
        features.append(nn.Linear(16, self.new_num_labels))
        pl_module.classifier = nn.Sequential(*features)


def main():
    pl.seed_everything(0)
    tokens = torch.randint(0, 50, (24, 6))
    y = tokens[:, 0] % 2
    model = Classifier(num_labels=4)
    trainer = pl.Trainer(max_epochs=2, logger=False, callbacks=[FinetuneLastLayer(new_num_labels=2)])
    head_holder = {}

    class Snapshot(Callback):
        def on_train_start(self, trainer, pl_module):
            head_holder["before"] = pl_module.classifier[-1].weight.detach().clone()

    trainer.callbacks.append(Snapshot())
    trainer.fit(model, DataLoader(TensorDataset(tokens, y), batch_size=6))
    facts = {"new_head_changed": not torch.equal(head_holder["before"], model.classifier[-1].weight)}
    return {"classifier": model.classifier}, facts

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
