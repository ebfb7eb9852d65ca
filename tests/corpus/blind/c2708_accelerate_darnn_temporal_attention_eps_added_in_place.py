import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class InputAttentionEncoder(nn.Module):
    def __init__(self, n_series=4, hidden=12):
        super().__init__()
        self.lstm = nn.LSTMCell(n_series, hidden)
        self.attn = nn.Linear(2 * hidden + 1, 1)
        self.hidden = hidden

    def forward(self, x):
        b, T, n = x.shape
        h = x.new_zeros(b, self.hidden)
        c = x.new_zeros(b, self.hidden)
        encoded = []
        for t in range(T):
            hc = torch.cat([h, c], -1).unsqueeze(1).expand(b, n, 2 * self.hidden)
            e = self.attn(torch.cat([hc, x[:, t].unsqueeze(-1)], -1)).squeeze(-1)
            alpha = F.softmax(e, dim=1)
            h, c = self.lstm(alpha * x[:, t], (h, c))
            encoded.append(h)
        return torch.stack(encoded, 1)


class TemporalAttentionDecoder(nn.Module):
    def __init__(self, hidden=12, eps=1e-4):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.out = nn.Linear(hidden + 1, 1)
        self.eps = eps

    def forward(self, encoded, y_prev):
        beta = F.softmax(self.score(encoded).squeeze(-1), dim=1)
        beta += self.eps
        context = (beta.unsqueeze(-1) * encoded).sum(1) / beta.sum(1, keepdim=True)
        return self.out(torch.cat([context, y_prev[:, -1:]], -1)).squeeze(-1)


class DARNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = InputAttentionEncoder()
        self.decoder = TemporalAttentionDecoder()

    def forward(self, x, y_prev):
        return self.decoder(self.encoder(x), y_prev)


def main():
    set_seed(0)
    x = torch.randn(32, 5, 4)
    y_hist = x[:, :, 0].cumsum(1)
    target = y_hist[:, -1] + x[:, -1, 1]
    accelerator = Accelerator()
    model = DARNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(TensorDataset(x, y_hist, target), batch_size=8, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for xb, yb, tb in loader:
        optimizer.zero_grad()
        loss = F.mse_loss(model(xb, yb), tb)
        accelerator.backward(loss)
        optimizer.step()
    return {"model": model}

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
