import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_mels": 12, "hidden": 32, "vocab": 6, "frames": 20, "label_len": 4, "vad_weight": 0.3, "lr": 3e-3,
       "epochs": 2}


class CTCWithVAD(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = nn.GRU(cfg["n_mels"], cfg["hidden"], batch_first=True, bidirectional=True)
        self.ctc_head = nn.Linear(2 * cfg["hidden"], cfg["vocab"])
        self.vad_head = nn.Linear(2 * cfg["hidden"], 1)

    def forward(self, feats):
        h, _ = self.encoder(feats)
        return F.log_softmax(self.ctc_head(h), dim=-1), self.vad_head(h).squeeze(-1)


def speech_fraction(vad_logits):
    """Share of frames the model marks as speech (the aux target is the annotated speech ratio)."""
    return (torch.sigmoid(vad_logits) > 0.5).float().mean(dim=1)


class ASRModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = CTCWithVAD(cfg)

    def training_step(self, batch, batch_idx):
        feats, labels, speech_ratio = batch
        log_probs, vad_logits = self.model(feats)
        T, B = feats.shape[1], feats.shape[0]
        ctc = F.ctc_loss(log_probs.transpose(0, 1), labels, torch.full((B,), T, dtype=torch.long),
                         torch.full((B,), self.cfg["label_len"], dtype=torch.long), blank=0, zero_infinity=True)
        vad = F.mse_loss(speech_fraction(vad_logits), speech_ratio)
        self.log_dict({"ctc": ctc.item(), "vad": vad.item()})
        return ctc + self.cfg["vad_weight"] * vad

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg["lr"])
        sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=4)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def utterance_loader(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(n, cfg["frames"], cfg["n_mels"], generator=g)
    labels = torch.randint(1, cfg["vocab"], (n, cfg["label_len"]), generator=g)
    ratio = (feats[..., 0] > 0).float().mean(1)
    return DataLoader(TensorDataset(feats, labels, ratio), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = ASRModule(CFG)
    v0, c0 = module.model.vad_head.weight.detach().clone(), module.model.ctc_head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(module, utterance_loader(CFG))
    return {"model": module.model}, {"vad_head_changed": not torch.equal(v0, module.model.vad_head.weight),
                                     "ctc_head_changed": not torch.equal(c0, module.model.ctc_head.weight)}

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
