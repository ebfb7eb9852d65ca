import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 32, "emb": 32, "enc": 32, "n_mels": 16, "frames": 12, "lr": 2e-3, "unfreeze_at_epoch": 1,
       "epochs": 3}


class Tacotron2Encoder(nn.Module):
    def __init__(self, vocab, emb, enc):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.convs = nn.Sequential(nn.Conv1d(emb, enc, 5, padding=2), nn.BatchNorm1d(enc), nn.ReLU(),
                                   nn.Conv1d(enc, enc, 5, padding=2), nn.BatchNorm1d(enc), nn.ReLU())
        self.lstm = nn.LSTM(enc, enc // 2, batch_first=True, bidirectional=True)

    def forward(self, text):
        x = self.convs(self.embedding(text).transpose(1, 2)).transpose(1, 2)
        return self.lstm(x)[0]


class AttentionDecoder(nn.Module):
    """Teacher-forced decoder: prenet on the previous frame, content attention over the encoder outputs."""

    def __init__(self, enc, n_mels):
        super().__init__()
        self.prenet = nn.Sequential(nn.Linear(n_mels, enc), nn.ReLU(), nn.Linear(enc, enc), nn.ReLU())
        self.query = nn.Linear(enc, enc)
        self.rnn = nn.GRU(2 * enc, enc, batch_first=True)
        self.mel_out = nn.Linear(2 * enc, n_mels)
        self.gate_out = nn.Linear(2 * enc, 1)

    def forward(self, memory, mel_in):
        q = self.prenet(mel_in)
        attn = torch.softmax(self.query(q) @ memory.transpose(1, 2) / memory.shape[-1] ** 0.5, dim=-1)
        ctx = attn @ memory
        h, _ = self.rnn(torch.cat([q, ctx], -1))
        out = torch.cat([h, ctx], -1)
        return self.mel_out(out), self.gate_out(out).squeeze(-1)


class Tacotron2(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = Tacotron2Encoder(cfg["vocab"], cfg["emb"], cfg["enc"])
        self.decoder = AttentionDecoder(cfg["enc"], cfg["n_mels"])
        self.encoder.requires_grad_(False)   # pretrained on the source speaker; thawed by the callback

    def training_step(self, batch, batch_idx):
        text, mel, gate = batch
        mel_in = F.pad(mel, (0, 0, 1, 0))[:, :-1]
        mel_pred, gate_pred = self.decoder(self.encoder(text), mel_in)
        loss = F.mse_loss(mel_pred, mel) + F.binary_cross_entropy_with_logits(gate_pred, gate)
        self.log("train_loss", loss.item())
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=self.cfg["lr"], weight_decay=1e-6)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


class UnfreezeEncoder(pl.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            pl_module.encoder.requires_grad_(True)


def speaker_loader(cfg, n=24):
    g = torch.Generator().manual_seed(0)
    text = torch.randint(0, cfg["vocab"], (n, 10), generator=g)
    table = torch.randn(cfg["vocab"], cfg["n_mels"], generator=g)
    mel = table[text].repeat_interleave(2, dim=1)[:, :cfg["frames"]]
    gate = torch.zeros(n, cfg["frames"])
    gate[:, -1] = 1.0
    return DataLoader(TensorDataset(text, mel, gate), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = Tacotron2(CFG)
    enc0 = model.encoder.convs[0].weight.detach().clone()
    dec0 = model.decoder.mel_out.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=CFG["epochs"], callbacks=[UnfreezeEncoder(CFG["unfreeze_at_epoch"])],
                         logger=False, enable_checkpointing=False)
    trainer.fit(model, speaker_loader(CFG))
    return {"model": model}, {
        "encoder_changed": not torch.equal(enc0, model.encoder.convs[0].weight),
        "decoder_changed": not torch.equal(dec0, model.decoder.mel_out.weight),
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
