import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"vocab": 100, "dim": 16, "queue_size": 24, "temperature": 0.07, "lr": 5e-3, "steps": 6, "batch": 8}


class BagEncoder(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.emb = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.proj = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, tokens):
        return F.normalize(self.proj(self.emb(tokens)), dim=-1)


class ProductSearch(nn.Module):
    """Query encoder / product encoder with a FIFO queue of past product embeddings as extra negatives."""

    def __init__(self, cfg):
        super().__init__()
        self.query_enc = BagEncoder(cfg["vocab"], cfg["dim"])
        self.doc_enc = BagEncoder(cfg["vocab"], cfg["dim"])
        self.register_buffer("queue", F.normalize(torch.randn(cfg["queue_size"], cfg["dim"]), dim=-1))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))

    def forward(self, q_tokens, d_tokens):
        return self.query_enc(q_tokens), self.doc_enc(d_tokens)

    @torch.no_grad()
    def enqueue(self, d):
        n = d.size(0)
        idx = (self.ptr + torch.arange(n)) % self.queue.size(0)
        self.queue[idx] = d
        self.ptr.fill_((self.ptr + n) % self.queue.size(0))


def contrastive_loss(q, d, queue, temperature):
    logits = torch.cat([q @ d.T, q @ queue.T], dim=1) / temperature
    return F.cross_entropy(logits, torch.arange(q.size(0)))


def train(model, optimizer, cfg):
    g = torch.Generator().manual_seed(0)
    net = model.module
    for step in range(cfg["steps"]):
        d_tokens = torch.randint(0, cfg["vocab"], (cfg["batch"], 6), generator=g)
        q_tokens = d_tokens[:, :3]
        q, d = model(q_tokens, d_tokens)
        loss = contrastive_loss(q, d, net.queue.clone(), cfg["temperature"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        net.enqueue(d.detach())


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(ProductSearch(CFG))
    optimizer = torch.optim.Adam([{"params": model.module.query_enc.parameters()},
                                  {"params": model.module.doc_enc.parameters()}], lr=CFG["lr"])
    q0 = model.module.query_enc.proj[0].weight.detach().clone()
    d0 = model.module.doc_enc.proj[0].weight.detach().clone()
    train(model, optimizer, CFG)
    return {"model": model.module}, {
        "query_encoder_changed": not torch.equal(q0, model.module.query_enc.proj[0].weight),
        "doc_encoder_changed": not torch.equal(d0, model.module.doc_enc.proj[0].weight),
    }

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
