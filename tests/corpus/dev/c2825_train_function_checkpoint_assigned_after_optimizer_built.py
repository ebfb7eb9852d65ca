import io

import torch
import torch.nn as nn
import torch.nn.functional as F


class TextCNN(nn.Module):
    def __init__(self, vocab=40, dim=16, n_classes=3, kernel_sizes=(2, 3)):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.convs = nn.ModuleList([nn.Conv1d(dim, 8, k) for k in kernel_sizes])
        self.dropout = nn.Dropout(0.1)
        self.fc = nn.Linear(8 * len(kernel_sizes), n_classes)

    def forward(self, tokens):
        x = self.embed(tokens).transpose(1, 2)
        pooled = [F.relu(conv(x)).amax(dim=-1) for conv in self.convs]
        return self.fc(self.dropout(torch.cat(pooled, dim=-1)))


def pretrained_checkpoint():
    """Stands in for the checkpoint file produced by the pretraining job."""
    torch.manual_seed(123)
    buffer = io.BytesIO()
    torch.save({"model": TextCNN().state_dict(), "epoch": 10}, buffer)
    buffer.seek(0)
    return buffer


def build_optimizer(model, lr=1e-2, weight_decay=1e-4):
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def restore(model, source, strict=True):
    state = torch.load(source, map_location="cpu", weights_only=True)
    missing, unexpected = model.load_state_dict(state["model"], strict=strict, assign=True)
    return state.get("epoch", 0)


def batches(n=6, batch=8, seq=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        tokens = torch.randint(0, 40, (batch, seq), generator=g)
        yield tokens, (tokens[:, :3].sum(-1) % 3)


def train(model, optimizer, epochs=2, clip=1.0):
    model.train()
    history = []
    for epoch in range(epochs):
        for tokens, labels in batches(seed=epoch):
            loss = F.cross_entropy(model(tokens), labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            history.append(loss.item())
    return history


@torch.no_grad()
def evaluate(model, seed=99):
    model.eval()
    correct = total = 0
    for tokens, labels in batches(n=2, seed=seed):
        correct += int((model(tokens).argmax(-1) == labels).sum())
        total += labels.numel()
    model.train()
    return correct / total


def finetune(resume_from):
    model = TextCNN()
    optimizer = build_optimizer(model)
    start_epoch = restore(model, resume_from)
    history = train(model, optimizer)
    print(f"resumed from epoch {start_epoch}, accuracy {evaluate(model):.2f}")
    return model, start_epoch, history


def main():
    ckpt = pretrained_checkpoint()
    reference = torch.load(io.BytesIO(ckpt.getvalue()), weights_only=True)["model"]
    torch.manual_seed(0)
    model, start_epoch, history = finetune(ckpt)
    changed = any(not torch.equal(reference[k], v) for k, v in model.state_dict().items())
    return {"model": model}, {"changed_from_checkpoint": changed, "start_epoch": start_epoch}

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
