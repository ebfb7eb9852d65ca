import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        layer = nn.TransformerEncoderLayer(dim, nhead=2, dim_feedforward=32, batch_first=True, dropout=0.0)
        self.layers = nn.TransformerEncoder(layer, num_layers=2)

    def forward(self, embeddings):
        return self.layers(embeddings)


class SoftPromptClassifier(pl.LightningModule):
    def __init__(self, n_prompt=5, dim=16, n_classes=3):
        super().__init__()
        self.encoder = FrozenTextEncoder(dim=dim)
        self.encoder.requires_grad_(False)
        self.prompt = nn.Parameter(torch.randn(n_prompt, dim) * 0.02)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        x = self.encoder.embed(tokens)
        prompt = self.prompt.unsqueeze(0).expand(x.size(0), -1, -1)
        h = self.encoder(torch.cat([prompt, x], dim=1))
        return self.head(h[:, 0])

    def training_step(self, batch, batch_idx):
        tokens, label = batch
        loss = F.cross_entropy(self(tokens), label)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=3e-3)


def main():
    pl.seed_everything(0)
    tokens = torch.randint(0, 50, (36, 8))
    label = tokens[:, 0] % 3
    loader = DataLoader(TensorDataset(tokens, label), batch_size=12, shuffle=True)
    model = SoftPromptClassifier()
    prompt_before = model.prompt.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader)
    return {"prompt": model.prompt, "head": model.head}, {"prompt_changed": not torch.equal(prompt_before, model.prompt)}

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
