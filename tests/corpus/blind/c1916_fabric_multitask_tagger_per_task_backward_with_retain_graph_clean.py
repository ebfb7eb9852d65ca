import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class SharedEncoder(nn.Module):
    def __init__(self, vocab=60, dim=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True, bidirectional=True)

    def forward(self, ids):
        h, _ = self.rnn(self.embed(ids))
        return h


class MultiTaskTagger(nn.Module):
    """POS tags per token + sentence-level intent, sharing one encoder."""

    def __init__(self, n_tags=6, n_intents=3, dim=24):
        super().__init__()
        self.encoder = SharedEncoder(dim=dim)
        self.tag_head = nn.Linear(2 * dim, n_tags)
        self.intent_head = nn.Sequential(nn.Linear(2 * dim, dim), nn.Tanh(), nn.Linear(dim, n_intents))

    def forward(self, ids):
        h = self.encoder(ids)
        return self.tag_head(h), self.intent_head(h.mean(dim=1))


def shared_grad_norm(model):
    return torch.sqrt(sum(p.grad.pow(2).sum() for p in model.encoder.parameters() if p.grad is not None)).item()


def train(fabric, model, optimizer, loader, weights=(1.0, 0.5), epochs=2):
    history = []
    for _ in range(epochs):
        for ids, tags, intents in loader:
            tag_logits, intent_logits = model(ids)
            tag_loss = F.cross_entropy(tag_logits.reshape(-1, tag_logits.size(-1)), tags.reshape(-1))
            intent_loss = F.cross_entropy(intent_logits, intents)
            optimizer.zero_grad()
            fabric.backward(weights[0] * tag_loss, retain_graph=True)
            g_tag = shared_grad_norm(model)
            fabric.backward(weights[1] * intent_loss)
            history.append((g_tag, shared_grad_norm(model)))
            optimizer.step()
    return history


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    ids = torch.randint(0, 60, (24, 7))
    tags = torch.randint(0, 6, (24, 7))
    intents = torch.randint(0, 3, (24,))
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(ids, tags, intents), batch_size=6, shuffle=True))
    net = MultiTaskTagger()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    model, optimizer = fabric.setup(net, optimizer)
    e0 = net.encoder.embed.weight.detach().clone()
    history = train(fabric, model, optimizer, loader)
    return ({"model": net},
            {"encoder_changed": not torch.equal(e0, net.encoder.embed.weight),
             "intent_adds_to_shared_grad": all(total > tag for tag, total in history)})

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
