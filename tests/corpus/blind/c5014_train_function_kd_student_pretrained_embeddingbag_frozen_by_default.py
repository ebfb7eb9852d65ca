import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 80, "emb": 24, "classes": 3, "T": 3.0, "alpha": 0.7, "lr": 5e-3, "epochs": 3,
       "finetune_embeddings": True}


class Teacher(nn.Module):
    def __init__(self, vocab, classes):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, 64, mode="mean")
        self.head = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, ids):
        return self.head(self.bag(ids))


class Student(nn.Module):
    def __init__(self, vectors, classes, finetune_embeddings):
        super().__init__()
        # pretrained word vectors, fine-tuned together with the classifier when the config asks for it
        self.embed = nn.EmbeddingBag.from_pretrained(vectors, mode="mean")
        self.finetune_embeddings = finetune_embeddings
        self.classifier = nn.Sequential(nn.Linear(vectors.shape[1], 32), nn.ReLU(), nn.Linear(32, classes))

    def forward(self, ids):
        return self.classifier(self.embed(ids))


def kd_loss(student_logits, teacher_logits, labels, T, alpha):
    soft = F.kl_div(F.log_softmax(student_logits / T, -1), F.softmax(teacher_logits / T, -1), reduction="batchmean")
    return alpha * T * T * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def distill(student, teacher, loader, cfg):
    teacher.eval()
    params = [p for p in student.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg["lr"])
    for epoch in range(cfg["epochs"]):
        for ids, labels in loader:
            with torch.no_grad():
                t_logits = teacher(ids)
            loss = kd_loss(student(ids), t_logits, labels, cfg["T"], cfg["alpha"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, CFG["vocab"], (96, 7), generator=g)
    labels = (ids % CFG["classes"]).mode(dim=1).values
    loader = DataLoader(TensorDataset(ids, labels), batch_size=16, shuffle=True, generator=g)
    vectors = torch.randn(CFG["vocab"], CFG["emb"], generator=g) * 0.3
    teacher = Teacher(CFG["vocab"], CFG["classes"])
    student = Student(vectors, CFG["classes"], CFG["finetune_embeddings"])
    e0, c0 = student.embed.weight.detach().clone(), student.classifier[0].weight.detach().clone()
    distill(student, teacher, loader, CFG)
    return {"student": student}, {"embeddings_changed": not torch.equal(e0, student.embed.weight),
                                  "classifier_changed": not torch.equal(c0, student.classifier[0].weight)}

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
