import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextEncoder(nn.Module):
    def __init__(self, embed, dim, n_layers):
        super().__init__()
        self.embed = embed
        self.layers = nn.ModuleList(nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())
                                    for _ in range(n_layers))

    def forward(self, tokens):
        h = self.embed(tokens)
        for layer in self.layers:
            h = h + layer(h)
        return h.mean(dim=1)


class SentimentClassifier(nn.Module):
    def __init__(self, encoder, dim, n_classes):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        return self.head(self.encoder(tokens))


def build_teacher_and_student(vocab=200, dim=32, n_classes=3):
    teacher = SentimentClassifier(TextEncoder(nn.Embedding(vocab, dim), dim, n_layers=4), dim, n_classes)
    # the student reuses the teacher's (pretrained) token embeddings to save memory
    student = SentimentClassifier(TextEncoder(teacher.encoder.embed, dim, n_layers=1), dim, n_classes)
    return teacher, student


def freeze(module):
    module.eval()
    for p in module.parameters():
        p.requires_grad = False


def kd_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.7):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=-1), F.softmax(teacher_logits / T, dim=-1),
                    reduction="batchmean") * T * T
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def distill(teacher, student, loader, epochs=2, lr=1e-3):
    freeze(teacher)
    optimizer = torch.optim.AdamW([p for p in student.parameters() if p.requires_grad], lr=lr)
    student.train()
    for _ in range(epochs):
        for tokens, labels in loader:
            with torch.no_grad():
                teacher_logits = teacher(tokens)
            loss = kd_loss(student(tokens), teacher_logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 200, (64, 12), generator=g)
    labels = torch.randint(0, 3, (64,), generator=g)
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=16, shuffle=True, generator=g)
    teacher, student = build_teacher_and_student()
    before = student.encoder.embed.weight.detach().clone()
    distill(teacher, student, loader)
    return {"student": student}, {"student_embedding_changed": not torch.equal(before, student.encoder.embed.weight)}

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
