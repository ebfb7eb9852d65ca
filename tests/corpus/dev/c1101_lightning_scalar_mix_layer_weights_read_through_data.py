import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ScalarMix(nn.Module):
    """ELMo-style learned weighting of every encoder layer's output."""

    def __init__(self, n_layers):
        super().__init__()
        self.scalar_parameters = nn.Parameter(torch.zeros(n_layers))
        self.gamma = nn.Parameter(torch.ones(1))

    def forward(self, layer_outputs):
        weights = torch.softmax(self.scalar_parameters.data, dim=0)
        mixed = sum(w * h for w, h in zip(weights, layer_outputs))
        return self.gamma * mixed


class StackedEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16, n_layers=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList([nn.Sequential(nn.Linear(dim, dim), nn.Tanh()) for _ in range(n_layers)])

    def forward(self, tokens):
        h = self.embed(tokens)
        outputs = [h]
        for layer in self.layers:
            h = layer(h) + h
            outputs.append(h)
        return outputs


class TaggerModule(pl.LightningModule):
    def __init__(self, n_tags=5):
        super().__init__()
        self.encoder = StackedEncoder()
        self.mix = ScalarMix(n_layers=4)
        self.head = nn.Linear(16, n_tags)

    def forward(self, tokens):
        return self.head(self.mix(self.encoder(tokens)))

    def training_step(self, batch, batch_idx):
        tokens, tags = batch
        logits = self(tokens)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tags.reshape(-1))
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def make_loader():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 50, (64, 7), generator=g)
    tags = tokens % 5
    return DataLoader(TensorDataset(tokens, tags), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = TaggerModule()
    mix_before = model.mix.scalar_parameters.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, make_loader())
    facts = {"layer_weights_changed": not torch.equal(mix_before, model.mix.scalar_parameters)}
    return {"model": model}, facts

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
