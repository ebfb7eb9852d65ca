import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class SpatioTemporalLSTMCell(nn.Module):
    """ST-LSTM cell (PredRNN-V2) returning the increments of the temporal (c) and spatial (m) memories."""

    def __init__(self, in_ch, hidden, k=3):
        super().__init__()
        p = k // 2
        self.conv_x = nn.Conv2d(in_ch, hidden * 7, k, padding=p)
        self.conv_h = nn.Conv2d(hidden, hidden * 4, k, padding=p)
        self.conv_m = nn.Conv2d(hidden, hidden * 3, k, padding=p)
        self.conv_o = nn.Conv2d(hidden * 2, hidden, k, padding=p)
        self.conv_last = nn.Conv2d(hidden * 2, hidden, 1)

    def forward(self, x, h, c, m):
        i_x, f_x, g_x, i_xp, f_xp, g_xp, o_x = torch.split(self.conv_x(x), h.shape[1], dim=1)
        i_h, f_h, g_h, o_h = torch.split(self.conv_h(h), h.shape[1], dim=1)
        i_m, f_m, g_m = torch.split(self.conv_m(m), h.shape[1], dim=1)
        delta_c = torch.sigmoid(i_x + i_h) * torch.tanh(g_x + g_h)
        c_new = torch.sigmoid(f_x + f_h + 1.0) * c + delta_c
        delta_m = torch.sigmoid(i_xp + i_m) * torch.tanh(g_xp + g_m)
        m_new = torch.sigmoid(f_xp + f_m + 1.0) * m + delta_m
        mem = torch.cat([c_new, m_new], dim=1)
        h_new = torch.sigmoid(o_x + o_h + self.conv_o(mem)) * torch.tanh(self.conv_last(mem))
        return h_new, c_new, m_new, delta_c, delta_m


class PredRNNv2(nn.Module):
    def __init__(self, in_ch=1, hidden=8, n_layers=2):
        super().__init__()
        self.cells = nn.ModuleList(SpatioTemporalLSTMCell(in_ch if i == 0 else hidden, hidden) for i in range(n_layers))
        self.adapter = nn.Conv2d(hidden, hidden, 1, bias=False)
        self.conv_out = nn.Conv2d(hidden, in_ch, 1)
        self.hidden = hidden

    def forward(self, frames):
        b, t, _, hgt, wid = frames.shape
        h = [frames.new_zeros(b, self.hidden, hgt, wid) for _ in self.cells]
        c = [frames.new_zeros(b, self.hidden, hgt, wid) for _ in self.cells]
        m = frames.new_zeros(b, self.hidden, hgt, wid)
        preds, decouple_loss = [], []
        for step in range(t - 1):
            x = frames[:, step]
            for i, cell in enumerate(self.cells):
                h[i], c[i], m, delta_c, delta_m = cell(x if i == 0 else h[i - 1], h[i], c[i], m)
                dc = F.normalize(self.adapter(delta_c).flatten(2), dim=2)
                dm = F.normalize(self.adapter(delta_m).flatten(2), dim=2)
                decouple_loss.append(torch.mean(torch.abs(F.cosine_similarity(dc, dm, dim=2))))
            preds.append(self.conv_out(h[-1]))
        decouple_loss = torch.mean(torch.tensor(decouple_loss))
        return torch.stack(preds, dim=1), decouple_loss


def train(fabric, model, optimizer, clips, beta=0.1, epochs=2):
    for _ in range(epochs):
        for batch in clips.split(4):
            preds, decouple = model(batch)
            loss = F.mse_loss(preds, batch[:, 1:]) + beta * decouple
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    net = PredRNNv2()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(net, optimizer)
    t = torch.arange(6).float()
    clips = torch.sin(t[None, :, None, None, None] + torch.randn(8, 1, 1, 8, 8)).expand(8, 6, 1, 8, 8).contiguous()
    train(fabric, model, optimizer, clips)
    return {"predrnn": net}

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
