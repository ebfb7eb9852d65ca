import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class KWSNet(nn.Module):
    """Depthwise-separable CNN keyword spotter over MFCC frames."""

    def __init__(self, width, n_classes=4, n_mfcc=10):
        super().__init__()
        self.stem = nn.Conv1d(n_mfcc, width, 3, padding=1)
        self.block = nn.Sequential(nn.Conv1d(width, width, 3, padding=1, groups=width), nn.BatchNorm1d(width), nn.ReLU(),
                                   nn.Conv1d(width, width, 1), nn.ReLU())
        self.fc = nn.Linear(width, n_classes)

    def forward(self, mfcc, return_features=False):
        feats = self.block(F.relu(self.stem(mfcc)))
        logits = self.fc(feats.mean(-1))
        return (logits, feats) if return_features else logits


class HintAdapter(nn.Module):
    """FitNets regressor mapping student features to the teacher's width."""

    def __init__(self, s_width, t_width):
        super().__init__()
        self.proj = nn.Conv1d(s_width, t_width, 1)

    def forward(self, feats):
        return self.proj(feats)


def build_optimizer(student, teacher, adapter, cfg):
    groups = [{"params": student.parameters(), "lr": cfg["lr"]},
              {"params": [p for p in teacher.parameters() if p.requires_grad], "lr": cfg["hint_lr"]}]
    return torch.optim.Adam(groups)


def distill_step(student, teacher, adapter, batch, optimizer, accelerator, cfg):
    mfcc, labels = batch
    with torch.no_grad():
        t_logits, t_feats = teacher(mfcc, return_features=True)
    s_logits, s_feats = student(mfcc, return_features=True)
    kd = F.kl_div(F.log_softmax(s_logits / cfg["T"], -1), F.softmax(t_logits / cfg["T"], -1), reduction="batchmean") * cfg["T"] ** 2
    hint = F.mse_loss(adapter(s_feats), t_feats)
    loss = F.cross_entropy(s_logits, labels) + cfg["alpha"] * kd + cfg["beta"] * hint
    optimizer.zero_grad()
    accelerator.backward(loss)
    optimizer.step()
    return loss.item()


def speech_commands(n=32, frames=20):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, 10, frames, generator=g), torch.randint(0, 4, (n,), generator=g)),
                      batch_size=8, shuffle=True, generator=g)


def main():
    set_seed(0)
    cfg = {"lr": 1e-3, "hint_lr": 1e-3, "T": 4.0, "alpha": 0.5, "beta": 1.0}
    accelerator = Accelerator()
    teacher = KWSNet(width=32).eval().requires_grad_(False)
    student, adapter = KWSNet(width=8), HintAdapter(8, 32)
    optimizer = build_optimizer(student, teacher, adapter, cfg)
    student, adapter, optimizer, loader = accelerator.prepare(student, adapter, optimizer, speech_commands())
    ad0, st0 = adapter.proj.weight.detach().clone(), student.stem.weight.detach().clone()
    for _ in range(2):
        for batch in loader:
            distill_step(student, teacher, adapter, batch, optimizer, accelerator, cfg)
    return {"student": student, "adapter": adapter}, {
        "adapter_changed": not torch.equal(ad0, adapter.proj.weight),
        "student_changed": not torch.equal(st0, student.stem.weight),
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
