import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed


class FusedLayerNormMLP(nn.Module):
    """LayerNorm + MLP fused for speed; skips building the graph when the module is not training."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        with torch.set_grad_enabled(self.training):
            return self.fc2(F.gelu(self.fc1(self.norm(x))))


class AudioEncoder(nn.Module):
    def __init__(self, n_mels=20, dim=32, depth=2):
        super().__init__()
        self.proj = nn.Linear(n_mels, dim)
        self.bn = nn.BatchNorm1d(dim)
        self.blocks = nn.ModuleList(FusedLayerNormMLP(dim, 2 * dim) for _ in range(depth))

    def forward(self, mels):
        h = self.proj(mels)
        h = self.bn(h.transpose(1, 2)).transpose(1, 2)
        for blk in self.blocks:
            h = h + blk(h)
        return h.mean(1)


class KeywordModel(nn.Module):
    def __init__(self, n_keywords=8):
        super().__init__()
        self.encoder = AudioEncoder()
        self.classifier = nn.Linear(32, n_keywords)

    def forward(self, mels):
        return self.classifier(self.encoder(mels))


def prepare_for_finetuning(model):
    """Few-shot fine-tuning: keep pretrained BatchNorm statistics fixed by putting the encoder in eval mode."""
    model.train()
    model.encoder.eval()


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    mels = torch.randn(32, 12, 20, generator=g)
    labels = torch.randint(0, 8, (32,), generator=g)
    model = KeywordModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model, optimizer = accelerator.prepare(model, optimizer)
    prepare_for_finetuning(model)
    w0 = model.encoder.blocks[0].fc1.weight.detach().clone()
    for i in range(0, 32, 8):
        with accelerator.accumulate(model):
            loss = F.cross_entropy(model(mels[i:i + 8]), labels[i:i + 8])
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    model(mels[:8]).logsumexp(-1).mean().backward()
    return {"model": model}, {"block_changed": not torch.equal(w0, model.encoder.blocks[0].fc1.weight)}

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
