import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"hidden": 32, "classes": 5, "lr_head": 1e-3, "lr_encoder": 5e-5, "freeze_encoder_steps": 2}


class HubertLite(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.feature_extractor = nn.Sequential(nn.Conv1d(1, hidden, 10, 5), nn.GELU(), nn.Conv1d(hidden, hidden, 3, 2), nn.GELU())
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(hidden, 4, 64, dropout=0.0, batch_first=True), 2)

    def forward(self, wav):
        return self.encoder(self.feature_extractor(wav.unsqueeze(1)).transpose(1, 2))


class EmotionRecognizer(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.cfg = cfg
        self.hubert = HubertLite(cfg["hidden"])
        self.hubert.feature_extractor.requires_grad_(False)
        self.head = nn.Sequential(nn.Linear(cfg["hidden"], cfg["hidden"]), nn.ReLU(), nn.Linear(cfg["hidden"], cfg["classes"]))

    def training_step(self, batch, batch_idx):
        opt_head, opt_enc = self.optimizers()
        wav, y = batch
        logits = self.head(self.hubert(wav).mean(1))
        loss = F.cross_entropy(logits, y)
        opt_head.zero_grad()
        opt_enc.zero_grad()
        self.manual_backward(loss)
        opt_head.step()
        if self.global_step >= self.cfg["freeze_encoder_steps"]:
            opt_head.step()
        self.log("loss", loss.item())

    def configure_optimizers(self):
        opt_head = torch.optim.AdamW(self.head.parameters(), lr=self.cfg["lr_head"])
        opt_enc = torch.optim.AdamW(self.hubert.encoder.parameters(), lr=self.cfg["lr_encoder"])
        return [opt_head, opt_enc]


def utterances(n=16, length=400):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, CFG["classes"], (n,), generator=g)
    t = torch.linspace(0, 1, length)
    wav = torch.sin(2 * 3.14159 * (3 + 2 * y[:, None]) * t) + 0.2 * torch.randn(n, length, generator=g)
    return DataLoader(TensorDataset(wav, y), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = EmotionRecognizer(CFG)
    e0 = module.hubert.encoder.layers[0].linear1.weight.detach().clone()
    h0 = module.head[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, utterances())
    return {"model": module}, {
        "encoder_changed": not torch.equal(e0, module.hubert.encoder.layers[0].linear1.weight),
        "head_changed": not torch.equal(h0, module.head[0].weight),
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
