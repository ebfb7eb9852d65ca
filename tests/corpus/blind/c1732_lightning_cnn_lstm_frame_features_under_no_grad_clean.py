import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FrameCNN(nn.Module):
    """Stand-in for a pretrained ResNet: per-frame features (kept fixed)."""

    def __init__(self, dim=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, dim, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.features(x)


class CNNLSTM(nn.Module):
    def __init__(self, n_classes=4, dim=16, hidden=24):
        super().__init__()
        self.resnet = FrameCNN(dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.fc1 = nn.Linear(hidden, 16)
        self.fc2 = nn.Linear(16, n_classes)

    def forward(self, x_3d):
        hidden = None
        for t in range(x_3d.size(1)):
            with torch.no_grad():
                x = self.resnet(x_3d[:, t])
            out, hidden = self.lstm(x.unsqueeze(1), hidden)
        return self.fc2(F.relu(self.fc1(out[:, -1])))


class ActionRecognizer(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.net = CNNLSTM()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        clips, labels = batch
        loss = F.cross_entropy(self.net(clips), labels)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        trainable = [p for n, p in self.net.named_parameters() if not n.startswith("resnet.")]
        return torch.optim.Adam(trainable, lr=self.lr)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    clips = torch.randn(16, 5, 3, 16, 16, generator=g)
    labels = torch.randint(0, 4, (16,), generator=g)
    loader = DataLoader(TensorDataset(clips, labels), batch_size=4, shuffle=True, generator=g)
    model = ActionRecognizer()
    lstm0 = model.net.lstm.weight_ih_l0.detach().clone()
    cnn0 = model.net.resnet.features[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"lstm_changed": not torch.equal(lstm0, model.net.lstm.weight_ih_l0),
                              "cnn_changed": not torch.equal(cnn0, model.net.resnet.features[0].weight)}

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
