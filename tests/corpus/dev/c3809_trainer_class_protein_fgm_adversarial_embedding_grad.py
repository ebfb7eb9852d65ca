import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

AMINO = "ACDEFGHIKLMNPQRSTVWY"


class ProteinCNN(nn.Module):
    """Residue embedding + 1D convolution + max-pool, a small protein family classifier."""

    def __init__(self, vocab=len(AMINO) + 1, dim=16, channels=32, n_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, channels, 5, padding=2)
        self.head = nn.Linear(channels, n_classes)

    def encode(self, tokens):
        return self.embed(tokens)

    def classify(self, emb):
        h = F.relu(self.conv(emb.transpose(1, 2)))
        return self.head(h.max(dim=-1).values)

    def forward(self, tokens):
        return self.classify(self.encode(tokens))


class AdversarialTrainer:
    """Fast gradient method on the residue embeddings: a clean loss plus a loss on embeddings pushed along the gradient."""

    def __init__(self, model, optimizer, scheduler, epsilon=0.5):
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.epsilon = epsilon

    def fgm_direction(self, grad):
        return self.epsilon * grad / (grad.norm() + 1e-8)

    def train_step(self, tokens, labels):
        self.optimizer.zero_grad()
        emb = self.model.encode(tokens)
        loss = F.cross_entropy(self.model.classify(emb), labels)
        loss.backward()
        r_adv = self.fgm_direction(emb.grad)
        adv_loss = F.cross_entropy(self.model.classify(self.model.encode(tokens) + r_adv), labels)
        adv_loss.backward()
        self.optimizer.step()
        return loss.item() + adv_loss.item()

    def fit(self, loader, epochs=2):
        self.model.train()
        for _ in range(epochs):
            for tokens, labels in loader:
                self.train_step(tokens, labels)
            self.scheduler.step()


def make_loader(n=32, length=24):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(1, len(AMINO) + 1, (n, length), generator=g)
    labels = torch.arange(n) % 2
    motif = torch.tensor([AMINO.index(a) + 1 for a in "CHHC"])
    for i in range(0, n, 2):
        start = int(torch.randint(0, length - 4, (1,), generator=g))
        tokens[i, start:start + 4] = motif
    return DataLoader(TensorDataset(tokens, labels), batch_size=8, shuffle=True)


def main():
    torch.manual_seed(0)
    model = ProteinCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)
    emb0 = model.embed.weight.detach().clone()
    AdversarialTrainer(model, optimizer, scheduler).fit(make_loader())
    return {"model": model}, {"embedding_changed": not torch.equal(emb0, model.embed.weight)}

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
