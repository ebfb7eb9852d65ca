import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 20, "emb": 16, "enc": 24, "dec": 32, "attn": 16, "n_mels": 8, "text_len": 7, "frames": 5,
       "lr": 2e-3, "epochs": 2}


class AdditiveAttention(nn.Module):
    def __init__(self, dec, enc, attn):
        super().__init__()
        self.query = nn.Linear(dec, attn, bias=False)
        self.memory = nn.Linear(enc, attn, bias=False)
        self.v = nn.Linear(attn, 1, bias=False)
        self.last_alignment = None

    def forward(self, query, memory, processed_memory):
        energies = self.v(torch.tanh(self.query(query).unsqueeze(1) + processed_memory)).squeeze(-1)
        weights = F.softmax(energies, dim=-1)
        self.last_alignment = weights.detach()
        context = torch.bmm(self.last_alignment.unsqueeze(1), memory).squeeze(1)
        return context, weights


class TinyTacotron(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg["vocab"], cfg["emb"])
        self.encoder = nn.GRU(cfg["emb"], cfg["enc"], batch_first=True)
        self.prenet = nn.Sequential(nn.Linear(cfg["n_mels"], cfg["dec"]), nn.ReLU())
        self.attention = AdditiveAttention(cfg["dec"], cfg["enc"], cfg["attn"])
        self.decoder_cell = nn.GRUCell(cfg["dec"] + cfg["enc"], cfg["dec"])
        self.mel_out = nn.Linear(cfg["dec"] + cfg["enc"], cfg["n_mels"])

    def forward(self, text, mels):
        memory, _ = self.encoder(self.embedding(text))
        processed = self.attention.memory(memory)
        B = text.size(0)
        h = memory.new_zeros(B, self.cfg["dec"])
        context = memory.new_zeros(B, self.cfg["enc"])
        frame = mels.new_zeros(B, self.cfg["n_mels"])
        outs, aligns = [], []
        for t in range(mels.size(1)):
            h = self.decoder_cell(torch.cat([self.prenet(frame), context], -1), h)
            context, w = self.attention(h, memory, processed)
            outs.append(self.mel_out(torch.cat([h, context], -1)))
            aligns.append(w)
            frame = mels[:, t]                                   # teacher forcing
        return torch.stack(outs, 1), torch.stack(aligns, 1)


class AlignmentLogger(pl.Callback):
    def __init__(self):
        self.alignments = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.alignments.append(pl_module.model.attention.last_alignment.clone())


class TTSModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = TinyTacotron(cfg)

    def training_step(self, batch, batch_idx):
        text, mels = batch
        pred, _ = self.model(text, mels)
        loss = F.l1_loss(pred, mels)
        self.log("mel_l1", loss.item())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg["lr"])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)}}


def tts_loader(cfg, n=32):
    g = torch.Generator().manual_seed(0)
    text = torch.randint(0, cfg["vocab"], (n, cfg["text_len"]), generator=g)
    mels = torch.randn(n, cfg["frames"], cfg["n_mels"], generator=g)
    return DataLoader(TensorDataset(text, mels), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = TTSModule(CFG)
    q0 = module.model.attention.query.weight.detach().clone()
    out0 = module.model.mel_out.weight.detach().clone()
    pl.Trainer(max_epochs=CFG["epochs"], callbacks=[AlignmentLogger()], logger=False,
               enable_checkpointing=False).fit(module, tts_loader(CFG))
    text, mels = next(iter(tts_loader(CFG)))
    module.zero_grad()
    F.l1_loss(module.model(text, mels)[0], mels).backward()
    return {"model": module.model}, {
        "attention_changed": not torch.equal(q0, module.model.attention.query.weight),
        "mel_out_changed": not torch.equal(out0, module.model.mel_out.weight),
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
