import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MergeLayer(nn.Module):
    """Runs several branch layers on the same input and merges their outputs (sum / concat / mean)."""

    def __init__(self, layers, mode="sum"):
        super().__init__()
        self._layers = []
        for layer in layers:
            self._layers.append(layer)
        self.mode = mode

    def forward(self, x):
        outs = [layer(x) for layer in self._layers]
        if self.mode == "concat":
            return torch.cat(outs, dim=1)
        stacked = torch.stack(outs, dim=0)
        return stacked.sum(0) if self.mode == "sum" else stacked.mean(0)


class TextCNNEncoder(nn.Module):
    def __init__(self, vocab=60, dim=16, kernels=(2, 3, 4), channels=12):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        branches = [nn.Sequential(nn.Conv1d(dim, channels, k, padding=k // 2), nn.ReLU(), nn.AdaptiveMaxPool1d(1))
                    for k in kernels]
        self.merge = MergeLayer(branches, mode="concat")

    def forward(self, tokens):
        x = self.embed(tokens).transpose(1, 2)
        return self.merge(x).squeeze(-1)


class SentimentClassifier(pl.LightningModule):
    def __init__(self, n_classes=3, lr=5e-3):
        super().__init__()
        self.encoder = TextCNNEncoder()
        self.classifier = nn.Linear(36, n_classes)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        tokens, labels = batch
        loss = F.cross_entropy(self.classifier(self.encoder(tokens)), labels)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(5)
    g = torch.Generator().manual_seed(5)
    tokens = torch.randint(0, 60, (48, 14), generator=g)
    labels = torch.randint(0, 3, (48,), generator=g)
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=16, shuffle=True, generator=g)
    model = SentimentClassifier()
    conv = model.encoder.merge._layers[0][0]
    w0 = conv.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    n_params = sum(p.numel() for p in model.parameters())
    return {"model": model, "branch0_conv_weight": conv.weight}, {
        "branch_conv_changed": not torch.equal(w0, conv.weight),
        "branch_params_registered": any(p is conv.weight for p in model.parameters()),
        "n_registered_params": n_params}

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
