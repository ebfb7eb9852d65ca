import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class GradMultiply(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        grad_x = None
        if ctx.needs_input_grad[1]:
            grad_x = grad * ctx.scale
        return grad_x, None


class Wav2VecCTC(nn.Module):
    def __init__(self, dim=16, vocab=6, feature_grad_mult=0.1):
        super().__init__()
        self.feature_extractor = nn.Sequential(nn.Conv1d(1, dim, 5, stride=2), nn.GELU(),
                                               nn.Conv1d(dim, dim, 3, stride=2), nn.GELU())
        self.encoder = nn.Linear(dim, dim)
        self.ctc_head = nn.Linear(dim, vocab)
        self.feature_grad_mult = feature_grad_mult

    def forward(self, wav):
        feats = self.feature_extractor(wav.unsqueeze(1))
        if self.feature_grad_mult != 1.0:
            feats = GradMultiply.apply(feats, self.feature_grad_mult)
        h = torch.tanh(self.encoder(feats.transpose(1, 2)))
        return self.ctc_head(h).log_softmax(-1)


def ctc_loss(logp, targets):
    logp = logp.transpose(0, 1)
    in_len = torch.full((logp.size(1),), logp.size(0), dtype=torch.long)
    tgt_len = torch.full((logp.size(1),), targets.size(1), dtype=torch.long)
    return F.ctc_loss(logp, targets, in_len, tgt_len, zero_infinity=True)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = Wav2VecCTC()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(8, 64, generator=g), torch.randint(1, 6, (8, 4), generator=g))
    loader = fabric.setup_dataloaders(DataLoader(data, batch_size=4, shuffle=True, generator=g))
    core = model.module
    fe0 = core.feature_extractor[0].weight.detach().clone()
    for wav, tgt in loader:
        optimizer.zero_grad()
        loss = ctc_loss(model(wav), tgt)
        fabric.backward(loss)
        fabric.clip_gradients(model, optimizer, max_norm=5.0)
        optimizer.step()
    return {"model": core}, {"extractor_changed": not torch.equal(fe0, core.feature_extractor[0].weight)}

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
