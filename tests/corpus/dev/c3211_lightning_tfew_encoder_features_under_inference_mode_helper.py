import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RowEncoder(nn.Module):
    def __init__(self, vocab=40, dim=24, n_cls=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(dim, 4, 48, dropout=0.0, batch_first=True), num_layers=1)
        self.head = nn.Linear(dim, n_cls)


class TabularFewShot(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.model = RowEncoder()
        self.lr = lr

    @torch.inference_mode()
    def encode_rows(self, ids):
        pad = ids.eq(0)
        h = self.model.encoder(self.model.embed(ids), src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).float()
        return (h * keep).sum(1) / keep.sum(1).clamp_min(1.0)

    def forward(self, ids):
        return self.model.head(self.encode_rows(ids).clone())

    def training_step(self, batch, batch_idx):
        ids, y = batch
        loss = F.cross_entropy(self(ids), y)
        self.log("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        ids, y = batch
        acc = (self(ids).argmax(-1) == y).float().mean()
        self.log("val_acc", acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.1, total_iters=5)]


def serialized_rows(n=24, length=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 40, (n, length), generator=g)
    ids[:, 9:] = 0
    y = (ids[:, 0] > 20).long()
    return DataLoader(TensorDataset(ids, y), batch_size=6, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = TabularFewShot()
    enc0 = module.model.encoder.layers[0].linear1.weight.detach().clone()
    head0 = module.model.head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(module, serialized_rows(), serialized_rows(8, seed=1))
    facts = {"encoder_changed": not torch.equal(enc0, module.model.encoder.layers[0].linear1.weight),
             "head_changed": not torch.equal(head0, module.model.head.weight)}
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
