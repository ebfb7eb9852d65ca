import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, rank=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scaling


class PretrainedMLP(nn.Module):
    def __init__(self, d_in=16, hidden=32, n_out=3):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.classifier(F.gelu(self.fc2(F.gelu(self.fc1(x)))))


def inject_lora(model, targets=("fc1", "fc2"), rank=4):
    model.requires_grad_(False)
    for name in targets:
        setattr(model, name, LoRALinear(getattr(model, name), rank=rank))
    model.classifier.requires_grad_(True)
    return model


def trainable_parameters(model):
    return [p for p in model.parameters() if p.requires_grad]


def make_loader(n=48, bs=8):
    g = torch.Generator().manual_seed(14)
    x = torch.randn(n, 16, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 1).long()
    return DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = inject_lora(PretrainedMLP())
    optimizer = torch.optim.AdamW(trainable_parameters(model), lr=5e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    base0 = model.fc1.base.weight.detach().clone()
    b0 = model.fc1.lora_B.detach().clone()
    model.train()
    for _ in range(2):
        for x, y in loader:
            with accelerator.accumulate(model):
                loss = F.cross_entropy(model(x), y)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
    return {"fc1": model.fc1, "classifier": model.classifier}, {
        "lora_B_changed": not torch.equal(b0, model.fc1.lora_B),
        "base_weight_unchanged": torch.equal(base0, model.fc1.base.weight),
        "n_trainable": len(trainable_parameters(model)),
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
