import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class WeightDrop(nn.Module):
    """DropConnect on the hidden-to-hidden weights of a wrapped LSTM (AWD-LSTM)."""

    def __init__(self, module, weight_p=0.3, names=("weight_hh_l0",)):
        super().__init__()
        self.module, self.weight_p, self.names = module, weight_p, names
        for name in names:
            w = getattr(self.module, name)
            self.register_parameter(f"{name}_raw", nn.Parameter(w.detach().clone()))
        self._setweights()

    def _setweights(self):
        for name in self.names:
            raw = getattr(self, f"{name}_raw")
            self.module._parameters[name] = F.dropout(raw, p=self.weight_p, training=self.training)

    def forward(self, *args):
        self._setweights()
        return self.module(*args)


class AWDLanguageModel(pl.LightningModule):
    def __init__(self, vocab=40, emb=16, hidden=24):
        super().__init__()
        self.encoder = nn.Embedding(vocab, emb)
        self.rnn = WeightDrop(nn.LSTM(emb, hidden, batch_first=True))
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        out, _ = self.rnn(self.encoder(tokens))
        return self.decoder(F.dropout(out, 0.2, self.training))

    def training_step(self, batch, batch_idx):
        (tokens,) = batch
        logits = self(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tokens[:, 1:].reshape(-1))
        self.log("ppl", loss.exp().item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=1.0, weight_decay=1.2e-6)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, 2, 0.5)]


def main():
    pl.seed_everything(0)
    tokens = torch.randint(0, 40, (12, 9), generator=torch.Generator().manual_seed(0))
    model = AWDLanguageModel()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(tokens), batch_size=4, shuffle=True))
    return {"rnn": model.rnn, "decoder": model.decoder}

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
