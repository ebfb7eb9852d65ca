import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Seq2Seq(nn.Module):
    def __init__(self, vocab=30, dim=16, n_rel=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.GRU(dim, dim, batch_first=True)
        self.decoder = nn.GRU(dim, dim, batch_first=True)
        self.lm_head = nn.Linear(dim, vocab)
        self.rel_head = nn.Linear(dim, n_rel)

    def forward(self, src, tgt_in):
        _, h = self.encoder(self.embed(src))
        dec, _ = self.decoder(self.embed(tgt_in), h)
        return self.lm_head(dec), self.rel_head(h[-1])


def combine_losses(losses, weights, log_fn):
    values = {name: loss.item() for name, loss in losses.items()}
    for name, v in values.items():
        log_fn(name, v)
    total = sum(weights[name] * v for name, v in values.items())
    return torch.tensor(total, requires_grad=False)


class CometModule(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.model = Seq2Seq()
        self.weights = {"gen": 1.0, "rel": 0.3}
        self.lr = lr

    def training_step(self, batch, batch_idx):
        src, tgt, rel = batch
        logits, rel_logits = self.model(src, tgt[:, :-1])
        losses = {"gen": F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1)),
                  "rel": F.cross_entropy(rel_logits, rel)}
        return combine_losses(losses, self.weights, self.log)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.9),
                                                   "interval": "step"}}


def triples(n=16):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randint(1, 30, (n, 6), generator=g), torch.randint(1, 30, (n, 5), generator=g),
                                    torch.randint(0, 4, (n,), generator=g)), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = CometModule()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(module, triples())
    return {"model": module.model}

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
