import math

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PositionalEmbedding(nn.Module):
    def __init__(self, d_model, max_len=256):
        super().__init__()
        pe = torch.zeros(max_len, d_model).float()
        pe.require_grad = False
        position = torch.arange(0, max_len).float().unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return self.pe[:, :x.size(1)]


class DataEmbedding(nn.Module):
    def __init__(self, c_in, d_model, n_marks=4):
        super().__init__()
        self.token = nn.Conv1d(c_in, d_model, 3, padding=1, padding_mode="circular")
        self.position = PositionalEmbedding(d_model)
        self.temporal = nn.Linear(n_marks, d_model)

    def forward(self, x, x_mark):
        return self.token(x.transpose(1, 2)).transpose(1, 2) + self.position(x) + self.temporal(x_mark)


class Forecaster(pl.LightningModule):
    def __init__(self, c_in=3, d_model=16, seq_len=24, pred_len=6):
        super().__init__()
        self.embedding = DataEmbedding(c_in, d_model)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, 2, 32, batch_first=True), 1)
        self.head = nn.Linear(seq_len * d_model, pred_len)

    def forward(self, x, x_mark):
        return self.head(self.encoder(self.embedding(x, x_mark)).flatten(1))

    def training_step(self, batch, batch_idx):
        x_enc, x_mark, y = batch
        return F.mse_loss(self(x_enc, x_mark), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    t = torch.arange(32 + 24 + 6).float()
    series = torch.stack([torch.sin(t / 5), torch.cos(t / 7), torch.sin(t / 3)], -1)
    x = torch.stack([series[i:i + 24] for i in range(32)])
    marks = torch.randn(32, 24, 4)
    y = torch.stack([series[i + 24:i + 30, 0] for i in range(32)])
    loader = DataLoader(TensorDataset(x, marks, y), batch_size=16, shuffle=True)
    model = Forecaster()
    w0 = model.embedding.token.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.zero_grad(set_to_none=True)
    model.training_step(next(iter(loader)), 0).backward()
    names = {n for n, _ in model.named_parameters()}
    return {"model": model}, {"pe_is_parameter": "embedding.position.pe" in names,
                              "token_conv_changed": not torch.equal(w0, model.embedding.token.weight)}

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
