import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DialogueLM(nn.Module):
    def __init__(self, vocab=50, dim=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.body = nn.LSTM(dim, dim, num_layers=2, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab)

    def forward(self, ids):
        h, _ = self.body(self.embed(ids))
        return self.lm_head(self.norm(h))


def resize_token_embeddings(model, new_vocab):
    """Grow the input embedding and output layer for newly added special tokens, keeping old rows."""
    old_emb, old_head = model.embed, model.lm_head
    n_old, dim = old_emb.weight.shape
    new_emb = nn.Embedding(new_vocab, dim)
    new_head = nn.Linear(dim, new_vocab)
    with torch.no_grad():
        new_emb.weight[:n_old] = old_emb.weight
        new_emb.weight[n_old:] = old_emb.weight.mean(dim=0)
        new_head.weight[:n_old] = old_head.weight
        new_head.bias[:n_old] = old_head.bias
    model.embed, model.lm_head = new_emb, new_head
    return model


def build_optimizer(model, lr=3e-3, weight_decay=0.01):
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for (ids,) in loader:
            logits = model(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    model = DialogueLM(vocab=50)
    optimizer = build_optimizer(model)
    special = ["<user>", "<bot>", "<eot>"]
    model = resize_token_embeddings(model, 50 + len(special))
    ids = torch.randint(0, 53, (24, 10))
    loader = DataLoader(TensorDataset(ids), batch_size=6, shuffle=True)
    e0 = model.embed.weight.detach().clone()
    b0 = model.body.weight_ih_l0.detach().clone()
    train(model, loader, optimizer)
    return ({"model": model},
            {"embedding_changed": not torch.equal(e0, model.embed.weight),
             "body_changed": not torch.equal(b0, model.body.weight_ih_l0)})

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
