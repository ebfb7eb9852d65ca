import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class BatchRNN(nn.Module):
    def __init__(self, in_dim, hidden, batch_norm=True):
        super().__init__()
        self.bn = nn.BatchNorm1d(in_dim) if batch_norm else None
        self.rnn = nn.GRU(in_dim, hidden, batch_first=True)

    def forward(self, x):
        if self.bn is not None:
            x = self.bn(x.transpose(1, 2)).transpose(1, 2)
        out, _ = self.rnn(x)
        return out


class DeepSpeechLite(nn.Module):
    def __init__(self, n_mels=16, hidden=24, n_layers=2, vocab=8):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, hidden, 3, padding=1), nn.Hardtanh(0, 20))
        self.rnns = [BatchRNN(hidden, hidden, batch_norm=i > 0) for i in range(n_layers)]
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, spec):
        x = self.conv(spec).transpose(1, 2)
        for layer in self.rnns:
            x = layer(x)
        return self.fc(x).log_softmax(-1)


def speech_loader(n=16, t=20, n_mels=16):
    g = torch.Generator().manual_seed(0)
    spec = torch.randn(n, n_mels, t, generator=g)
    targets = torch.randint(1, 8, (n, 6), generator=g)
    return DataLoader(TensorDataset(spec, targets), batch_size=4, shuffle=True, generator=g)


def ctc_step(model, spec, targets):
    logp = model(spec).transpose(0, 1)
    in_len = torch.full((spec.size(0),), logp.size(0), dtype=torch.long)
    tgt_len = torch.full((spec.size(0),), targets.size(1), dtype=torch.long)
    return F.ctc_loss(logp, targets, in_len, tgt_len, blank=0, zero_infinity=True)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = DeepSpeechLite()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(speech_loader())
    core = model.module
    rnn_w0 = core.rnns[0].rnn.weight_ih_l0.detach().clone()
    conv_w0 = core.conv[0].weight.detach().clone()
    opt_ids = {id(p) for grp in optimizer.param_groups for p in grp["params"]}
    for spec, targets in loader:
        optimizer.zero_grad()
        loss = ctc_step(model, spec, targets)
        fabric.backward(loss)
        optimizer.step()
    facts = {"rnn_in_optimizer": id(core.rnns[0].rnn.weight_ih_l0) in opt_ids,
             "rnn_changed": not torch.equal(rnn_w0, core.rnns[0].rnn.weight_ih_l0),
             "conv_changed": not torch.equal(conv_w0, core.conv[0].weight)}
    return {"model": core, "rnn0_weight": core.rnns[0].rnn.weight_ih_l0}, facts

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
