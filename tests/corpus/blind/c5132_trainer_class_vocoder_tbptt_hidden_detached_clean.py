import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"n_mels": 6, "hop": 4, "hidden": 32, "quant": 16, "chunk": 16, "lr": 2e-3, "epochs": 2}


class TinyWaveRNN(nn.Module):
    """Sample-level GRU conditioned on upsampled mel frames, predicting mu-law classes."""

    def __init__(self, cfg):
        super().__init__()
        self.upsample = nn.ConvTranspose1d(cfg["n_mels"], cfg["n_mels"], cfg["hop"], stride=cfg["hop"])
        self.rnn = nn.GRU(cfg["n_mels"] + 1, cfg["hidden"], batch_first=True)
        self.out = nn.Linear(cfg["hidden"], cfg["quant"])

    def forward(self, prev_samples, cond, h=None):
        y, h = self.rnn(torch.cat([prev_samples.unsqueeze(-1), cond], -1), h)
        return self.out(y), h


def mu_law_encode(x, q):
    mu = q - 1
    y = torch.sign(x) * torch.log1p(mu * x.abs()) / torch.log1p(torch.tensor(float(mu)))
    return ((y + 1) / 2 * mu + 0.5).long().clamp(0, mu)


class TBPTTTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.sched = torch.optim.lr_scheduler.StepLR(self.opt, step_size=4, gamma=0.5)

    def train_utterance(self, wav, mel):
        cond = self.model.upsample(mel).transpose(1, 2)                  # (B, T, n_mels)
        target = mu_law_encode(wav, self.cfg["quant"])
        prev = F.pad(wav[:, :-1], (1, 0))
        h, losses = None, []
        for s in range(0, wav.size(1), self.cfg["chunk"]):
            sl = slice(s, s + self.cfg["chunk"])
            logits, h = self.model(prev[:, sl], cond[:, sl].detach() if s else cond[:, sl], h)
            loss = F.cross_entropy(logits.reshape(-1, self.cfg["quant"]), target[:, sl].reshape(-1))
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            self.sched.step()
            h = h.detach()
            losses.append(loss.item())
        return sum(losses) / len(losses)

    def fit(self, data):
        for _ in range(self.cfg["epochs"]):
            for wav, mel in data:
                self.train_utterance(wav, mel)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    frames = 12
    data = []
    for _ in range(2):
        mel = torch.randn(2, CFG["n_mels"], frames, generator=g)
        t = torch.arange(frames * CFG["hop"]).float()
        wav = 0.5 * torch.sin(t / 3 + mel[:, :1, :].mean(-1)) + 0.05 * torch.randn(2, frames * CFG["hop"], generator=g)
        data.append((wav, mel))
    model = TinyWaveRNN(CFG)
    rnn0, up0 = model.rnn.weight_hh_l0.detach().clone(), model.upsample.weight.detach().clone()
    TBPTTTrainer(model, CFG).fit(data)
    return {"model": model}, {
        "rnn_changed": not torch.equal(rnn0, model.rnn.weight_hh_l0),
        "upsampler_changed": not torch.equal(up0, model.upsample.weight),
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
