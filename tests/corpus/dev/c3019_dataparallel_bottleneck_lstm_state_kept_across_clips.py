import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BottleneckLSTMCell(nn.Module):
    """Conv-LSTM cell with a 1x1 bottleneck, as in mobile video object detection."""

    def __init__(self, in_ch, hid_ch):
        super().__init__()
        self.bottleneck = nn.Conv2d(in_ch + hid_ch, hid_ch, 1)
        self.gates = nn.Conv2d(hid_ch, 4 * hid_ch, 3, padding=1)
        self.hid_ch = hid_ch

    def forward(self, x, state):
        h, c = state
        z = F.relu(self.bottleneck(torch.cat([x, h], 1)))
        i, f, o, g = self.gates(z).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class VideoDetector(nn.Module):
    def __init__(self, hid=8, n_cls=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.lstm = BottleneckLSTMCell(8, hid)
        self.cls_head = nn.Conv2d(hid, n_cls, 1)
        self.state = None

    def reset_state(self, batch, size):
        self.state = (torch.zeros(batch, self.lstm.hid_ch, size, size), torch.zeros(batch, self.lstm.hid_ch, size, size))

    def forward(self, frames):
        outs = []
        for t in range(frames.shape[1]):
            feat = self.backbone(frames[:, t])
            if self.state is None:
                self.reset_state(feat.shape[0], feat.shape[-1])
            self.state = self.lstm(feat, self.state)
            outs.append(self.cls_head(self.state[0]))
        return torch.stack(outs, 1)


def make_loader():
    g = torch.Generator().manual_seed(0)
    clips = torch.randn(12, 4, 3, 8, 8, generator=g)
    labels = torch.randint(0, 3, (12, 4, 4, 4), generator=g)
    return DataLoader(TensorDataset(clips, labels), batch_size=4, shuffle=False)


def train(model, loader, optimizer, scheduler, epochs=1):
    model.train()
    for _ in range(epochs):
        for clips, labels in loader:
            logits = model(clips)
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(0, 1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(VideoDetector())
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    train(model, make_loader(), optimizer, scheduler)
    return {"model": model.module}

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
