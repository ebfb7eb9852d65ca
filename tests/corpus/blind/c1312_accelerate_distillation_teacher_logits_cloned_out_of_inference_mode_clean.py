import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class SentenceEncoder(nn.Module):
    def __init__(self, vocab=80, dim=16, n_labels=4):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, n_labels))

    def forward(self, tokens):
        return self.mlp(self.embed(tokens))


@torch.inference_mode()
def teacher_logits(teacher, tokens):
    return teacher(tokens)


def distill_loss(student_logits, t_logits, labels, T=2.0, alpha=0.5):
    soft = F.kl_div(F.log_softmax(student_logits / T, -1), F.softmax(t_logits / T, -1), reduction="batchmean")
    return alpha * soft * T * T + (1 - alpha) * F.cross_entropy(student_logits, labels)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    teacher, student = SentenceEncoder(dim=32).eval(), SentenceEncoder(dim=8)
    optimizer = torch.optim.AdamW(student.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(25)
    loader = DataLoader(TensorDataset(torch.randint(0, 80, (48, 6), generator=g), torch.randint(0, 4, (48,), generator=g)),
                        batch_size=8, shuffle=True, generator=g)
    student, optimizer, loader = accelerator.prepare(student, optimizer, loader)
    head0 = student.mlp[2].weight.detach().clone()
    for tokens, labels in loader:
        with accelerator.accumulate(student):
            t_logits = teacher_logits(teacher, tokens).clone()
            loss = distill_loss(student(tokens), t_logits, labels)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
    return {"student": student, "teacher": teacher}, {"student_head_changed": not torch.equal(head0, student.mlp[2].weight)}

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
