import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CRNN(pl.LightningModule):
    def __init__(self, n_chars=10, height=8, hidden=16):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)),
                                 nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)))
        self.rnn = nn.GRU(8 * (height // 4), hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, n_chars + 1)
        self.blank = 0

    def forward(self, images):
        f = self.cnn(images)
        b, c, h, w = f.shape
        seq, _ = self.rnn(f.permute(0, 3, 1, 2).reshape(b, w, c * h))
        return self.fc(seq)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        log_probs = self(images).log_softmax(-1).transpose(0, 1)
        preds_size = [log_probs.size(0)] * images.size(0)
        target_lengths = (targets != self.blank).sum(1).tolist()
        flat_targets = targets[targets != self.blank]
        loss = F.ctc_loss(log_probs, flat_targets, tuple(preds_size), tuple(target_lengths), blank=self.blank,
                          zero_infinity=True)
        self.log("ctc", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=2e-3)


def make_loader():
    g = torch.Generator().manual_seed(37)
    images = torch.randn(24, 1, 8, 16, generator=g)
    targets = torch.randint(1, 11, (24, 4), generator=g)
    targets[::3, 3] = 0
    return DataLoader(TensorDataset(images, targets), batch_size=6, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = CRNN()
    conv0 = model.cnn[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, make_loader())
    return {"model": model}, {"cnn_changed": not torch.equal(conv0, model.cnn[0].weight)}

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
