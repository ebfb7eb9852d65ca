import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ConvFrontEnd(nn.Module):
    def __init__(self, n_mels=12, dim=24):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, dim, 3, stride=2, padding=1), nn.ReLU())

    def forward(self, mels):
        return self.conv(mels)

    @staticmethod
    def output_lengths(frame_lengths):
        # host-side bookkeeping: conv stride 2, padding 1, kernel 3
        lengths = np.asarray(frame_lengths)
        return (lengths - 1) // 2 + 1


class CTCRecognizer(nn.Module):
    def __init__(self, vocab=10, dim=24):
        super().__init__()
        self.front = ConvFrontEnd(dim=dim)
        self.rnn = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * dim, vocab + 1)  # + blank

    def forward(self, mels):
        h, _ = self.rnn(self.front(mels).transpose(1, 2))
        return self.out(h).log_softmax(dim=-1)


def ctc_step(model, mels, frame_lens, targets, target_lens):
    log_probs = model(mels).transpose(0, 1)  # (T, B, C)
    out_lens = torch.from_numpy(ConvFrontEnd.output_lengths(frame_lens.cpu().numpy())).long()
    return F.ctc_loss(log_probs, targets, out_lens, target_lens, blank=0, zero_infinity=True)


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    mels = torch.randn(16, 12, 24, generator=g)
    frame_lens = torch.randint(16, 25, (16,), generator=g)
    targets = torch.randint(1, 11, (16, 4), generator=g)
    target_lens = torch.randint(2, 5, (16,), generator=g)
    loader = DataLoader(TensorDataset(mels, frame_lens, targets, target_lens), batch_size=4, shuffle=True, generator=g)
    model = CTCRecognizer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    w0 = model.out.weight.detach().clone()
    history = []
    for epoch in range(2):
        for batch in loader:
            loss = ctc_step(model, *batch)
            optimizer.zero_grad()
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            history.append(loss.item())
    accelerator.log({"train/ctc": float(np.mean(history))})
    return {"model": model}, {"out_changed": not torch.equal(w0, model.out.weight), "logged_steps": len(history)}

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
