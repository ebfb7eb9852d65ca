import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class TinyDeepSpeech(nn.Module):
    def __init__(self, n_feats=8, hidden=16, n_tokens=6):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_feats, hidden, 3, padding=1), nn.Hardtanh(0, 20))
        self.rnn = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, n_tokens)

    def forward(self, feats):
        h = self.conv(feats.transpose(1, 2)).transpose(1, 2)
        h, _ = self.rnn(h)
        return self.fc(h)


class GreedyDecoder:
    def __init__(self, blank=0):
        self.blank = blank

    def decode(self, logits):
        best = logits.argmax(dim=-1)
        out = []
        for seq in best.tolist():
            tokens, prev = [], None
            for s in seq:
                if s != prev and s != self.blank:
                    tokens.append(s)
                prev = s
            out.append(tokens)
        return out


def token_error_rate(hyps, refs):
    errs = sum(sum(a != b for a, b in zip(h, r)) + abs(len(h) - len(r)) for h, r in zip(hyps, refs))
    return errs / max(1, sum(len(r) for r in refs))


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = TinyDeepSpeech()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model, optimizer = accelerator.prepare(model, optimizer)
    decoder, ctc = GreedyDecoder(), nn.CTCLoss(blank=0, zero_infinity=True)
    w0 = model.fc.weight.detach().clone()
    wer_log = []
    for step in range(4):
        feats = torch.randn(4, 20, 8)
        targets = torch.randint(1, 6, (4, 5))
        log_probs = model(feats).log_softmax(-1)
        loss = ctc(log_probs.transpose(0, 1), targets, torch.full((4,), 20), torch.full((4,), 5))
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        with torch.no_grad():
            wer_log.append(token_error_rate(decoder.decode(log_probs), targets.tolist()))
    return {"model": model}, {"fc_changed": not torch.equal(w0, model.fc.weight), "logged_wer": len(wer_log) == 4}

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
