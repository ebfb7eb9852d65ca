import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TextCNN(nn.Module):
    def __init__(self, vocab=80, dim=16, n_cls=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(dim, 8, k, padding=k // 2) for k in (3, 5)])
        self.fc = nn.Linear(16, n_cls)

    def classify(self, emb):
        x = emb.transpose(1, 2)
        return self.fc(torch.cat([F.relu(c(x)).amax(-1) for c in self.convs], 1))

    def forward(self, ids):
        return self.classify(self.embed(ids))


def fgsm_embeddings(model, ids, labels, epsilon=0.05):
    emb = model.embed(ids)
    emb.requires_grad = True
    loss = F.cross_entropy(model.classify(emb), labels)
    (grad,) = torch.autograd.grad(loss, emb, retain_graph=True)
    return loss, emb + epsilon * grad.sign()


def accuracy(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for ids, labels in loader:
            correct += (model(ids).argmax(-1) == labels).sum().item()
            total += labels.numel()
    model.train()
    return correct / max(total, 1)


def build_vocab(texts, min_freq=1):
    counts = {}
    for t in texts:
        for w in t.split():
            counts[w] = counts.get(w, 0) + 1
    vocab = {"<pad>": 0}
    for w, c in sorted(counts.items()):
        if c >= min_freq:
            vocab[w] = len(vocab)
    return vocab


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = TextCNN()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(net, optimizer)
    g = torch.Generator().manual_seed(0)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randint(1, 80, (24, 12), generator=g),
                                                               torch.randint(0, 4, (24,), generator=g)), batch_size=8))
    for epoch in range(2):
        for ids, labels in loader:
            clean_loss, adv_emb = fgsm_embeddings(net, ids, labels)
            adv_loss = F.cross_entropy(net.classify(adv_emb), labels)
            loss = 0.5 * (clean_loss + adv_loss)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"model": net}

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
