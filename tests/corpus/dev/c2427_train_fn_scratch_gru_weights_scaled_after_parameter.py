import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def init_weight(*shape, sigma=0.01):
    return nn.Parameter(torch.randn(*shape)) * sigma


def three(num_inputs, num_hiddens):
    return (init_weight(num_inputs, num_hiddens), init_weight(num_hiddens, num_hiddens),
            nn.Parameter(torch.zeros(num_hiddens)))


class GRUScratch(nn.Module):
    """GRU written from the equations (d2l style)."""

    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.W_xz, self.W_hz, self.b_z = three(num_inputs, num_hiddens)  # update gate
        self.W_xr, self.W_hr, self.b_r = three(num_inputs, num_hiddens)  # reset gate
        self.W_xh, self.W_hh, self.b_h = three(num_inputs, num_hiddens)  # candidate state

    def forward(self, inputs, H=None):
        if H is None:
            H = torch.zeros(inputs.shape[1], self.num_hiddens)
        outputs = []
        for X in inputs:
            Z = torch.sigmoid(X @ self.W_xz + H @ self.W_hz + self.b_z)
            R = torch.sigmoid(X @ self.W_xr + H @ self.W_hr + self.b_r)
            H_tilde = torch.tanh(X @ self.W_xh + (R * H) @ self.W_hh + self.b_h)
            H = Z * H + (1 - Z) * H_tilde
            outputs.append(H)
        return torch.stack(outputs), H


class CharLM(nn.Module):
    def __init__(self, vocab_size=28, num_hiddens=32):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = GRUScratch(vocab_size, num_hiddens)
        self.output = nn.Linear(num_hiddens, vocab_size)

    def forward(self, tokens):
        x = F.one_hot(tokens.T, self.vocab_size).float()
        out, _ = self.rnn(x)
        return self.output(out).transpose(0, 1)


def train(model, loader, optimizer, epochs=2, clip=1.0):
    for _ in range(epochs):
        total, count = 0.0, 0
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            total, count = total + loss.item() * y.numel(), count + y.numel()
        perplexity = math.exp(total / count)
    return perplexity


def main():
    torch.manual_seed(0)
    corpus = torch.randint(0, 28, (33 * 16,))
    windows = corpus.view(16, 33)
    loader = DataLoader(TensorDataset(windows[:, :-1], windows[:, 1:]), batch_size=8, shuffle=True)
    model = CharLM()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    train(model, loader, optimizer)
    return ({"model": model, "W_xz": model.rnn.W_xz, "W_hh": model.rnn.W_hh},
            {"n_registered_rnn_params": len(list(model.rnn.parameters()))})

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
