import torch
import torch.nn as nn
import torch.nn.functional as F


class FeedForwardBlock(nn.Module):
    def __init__(self, dim, mult=2):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, mult * dim), nn.GELU(), nn.Linear(mult * dim, dim))

    def forward(self, x):
        return self.ff(self.norm(x))


class MixtureOfDepthsLayer(nn.Module):
    """Only the top-k tokens (by router score) go through the block; the others skip it on the residual path."""

    def __init__(self, dim, capacity=0.5):
        super().__init__()
        self.router = nn.Linear(dim, 1)
        self.block = FeedForwardBlock(dim)
        self.capacity = capacity

    def forward(self, x):
        b, t, d = x.shape
        k = max(1, int(t * self.capacity))
        scores = self.router(x).squeeze(-1)
        top_idx = scores.topk(k, dim=-1).indices.sort(dim=-1).values
        gather_idx = top_idx.unsqueeze(-1).expand(-1, -1, d)
        selected = torch.gather(x, 1, gather_idx)
        processed = self.block(selected)
        return x.scatter_add(1, gather_idx, processed)


class MoDLanguageModel(nn.Module):
    def __init__(self, vocab=32, dim=16, depth=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList([MixtureOfDepthsLayer(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab)

    def forward(self, tokens):
        h = self.embed(tokens)
        for layer in self.layers:
            h = layer(h)
        return self.lm_head(self.norm(h))


def lm_loss(logits, tokens):
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def batches(n_batches=6, batch=4, seq=8, vocab=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_batches):
        start = torch.randint(0, vocab, (batch, 1), generator=g)
        yield (start + torch.arange(seq)) % vocab


def train(model, optimizer, scheduler, epochs=2):
    model.train()
    for epoch in range(epochs):
        for tokens in batches(seed=epoch):
            logits = model(tokens)
            loss = lm_loss(logits, tokens)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    net = MoDLanguageModel()
    model = nn.DataParallel(net)
    router_before = model.module.layers[0].router.weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    train(model, optimizer, scheduler)
    facts = {"router_changed": not torch.equal(router_before, model.module.layers[0].router.weight)}
    return {"lm": model.module}, facts

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
