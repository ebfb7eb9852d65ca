import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 12, "emb": 16, "hidden": 32, "src_len": 6, "tgt_len": 6, "bos": 1, "sample_p": 0.3, "lr": 3e-3,
       "epochs": 2}


class Seq2Seq(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.src_emb = nn.Embedding(cfg["vocab"], cfg["emb"])
        self.tgt_emb = nn.Embedding(cfg["vocab"], cfg["emb"])
        self.encoder = nn.GRU(cfg["emb"], cfg["hidden"], batch_first=True)
        self.decoder = nn.GRU(cfg["emb"], cfg["hidden"], batch_first=True)
        self.proj = nn.Linear(cfg["hidden"], cfg["vocab"])

    def encode(self, src):
        _, h = self.encoder(self.src_emb(src))
        return h

    def decode(self, dec_in, h):
        out, _ = self.decoder(self.tgt_emb(dec_in), h)
        return self.proj(out)


def shift_right(tgt, bos):
    return torch.cat([torch.full_like(tgt[:, :1], bos), tgt[:, :-1]], dim=1)


class ScheduledSamplingModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Seq2Seq(cfg)
        self.gen = torch.Generator().manual_seed(3)

    def mixed_decoder_inputs(self, h, tgt):
        """Scheduled sampling: replace some gold inputs by the model's own greedy predictions."""
        gold = shift_right(tgt, self.cfg["bos"])
        with torch.no_grad():
            greedy = self.model.decode(gold, h).argmax(-1)
        use_pred = torch.rand(gold.shape, generator=self.gen) < self.cfg["sample_p"]
        use_pred[:, 0] = False
        return torch.where(use_pred, shift_right(greedy, self.cfg["bos"]), gold)

    def training_step(self, batch, batch_idx):
        src, tgt = batch
        h = self.model.encode(src)
        dec_in = self.mixed_decoder_inputs(h, tgt)
        logits = self.model.decode(dec_in, h)
        loss = F.cross_entropy(logits.reshape(-1, self.cfg["vocab"]), tgt.reshape(-1))
        self.log("ce", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.cfg["lr"], total_steps=8)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def copy_task_loader(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    src = torch.randint(2, cfg["vocab"], (n, cfg["src_len"]), generator=g)
    return DataLoader(TensorDataset(src, src.flip(1)), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = ScheduledSamplingModule(CFG)
    enc0 = module.model.encoder.weight_ih_l0.detach().clone()
    dec0 = module.model.decoder.weight_ih_l0.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(module, copy_task_loader(CFG))
    return {"model": module.model}, {
        "encoder_changed": not torch.equal(enc0, module.model.encoder.weight_ih_l0),
        "decoder_changed": not torch.equal(dec0, module.model.decoder.weight_ih_l0),
    }

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
