import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextClassifier(nn.Module):
    def __init__(self, vocab=80, dim=24, num_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.LSTM(dim, dim, batch_first=True)
        self.head = nn.Linear(dim, num_classes)

    def forward_embeds(self, embeds):
        out, _ = self.encoder(embeds)
        return self.head(out.mean(1))

    def forward(self, input_ids):
        return self.forward_embeds(self.embed(input_ids))


def adversarial_loss(model, input_ids, labels, adv_steps=2, adv_lr=0.1, eps=0.5):
    """FreeLB-style: accumulate parameter gradients over a few ascent steps on an embedding perturbation."""
    embeds = model.embed(input_ids)
    delta = torch.zeros_like(embeds, requires_grad=True)
    total = 0.0
    for _ in range(adv_steps):
        loss = F.cross_entropy(model.forward_embeds(embeds + delta), labels) / adv_steps
        loss.backward(retain_graph=True)
        total += loss.item()
        delta = (delta + adv_lr * delta.grad.sign()).clamp(-eps, eps)
    return total


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for input_ids, labels in loader:
            optimizer.zero_grad()
            adversarial_loss(model, input_ids, labels)
            optimizer.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 80, (32, 10), generator=g)
    labels = (ids[:, 0] > 40).long()
    loader = DataLoader(TensorDataset(ids, labels), batch_size=8, shuffle=True, generator=g)
    model = TextClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train(model, loader, optimizer)
    return {"model": model}

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
