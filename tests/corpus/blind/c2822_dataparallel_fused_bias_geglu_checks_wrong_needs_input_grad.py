import torch
import torch.nn as nn
import torch.nn.functional as F


class BiasGeGLUFunction(torch.autograd.Function):
    """out = gelu(a + b_a) * (g + b_g) where [a, g] = x.chunk(2, -1); padded rows are zeroed by row_mask."""

    @staticmethod
    def forward(ctx, x, bias, row_mask):
        ctx.save_for_backward(x, bias, row_mask)
        a, g = (x + bias).chunk(2, dim=-1)
        return F.gelu(a) * g * row_mask.unsqueeze(-1)

    @staticmethod
    def backward(ctx, grad_out):
        x, bias, row_mask = ctx.saved_tensors
        a, g = (x + bias).chunk(2, dim=-1)
        grad_out = grad_out * row_mask.unsqueeze(-1)
        cdf = 0.5 * (1.0 + torch.erf(a / 2 ** 0.5))
        pdf = torch.exp(-0.5 * a ** 2) / (2 * torch.pi) ** 0.5
        grad_a = grad_out * g * (cdf + a * pdf)
        grad_g = grad_out * F.gelu(a)
        grad_x = torch.cat([grad_a, grad_g], dim=-1)
        grad_bias = None
        if ctx.needs_input_grad[2]:
            grad_bias = grad_x.reshape(-1, grad_x.shape[-1]).sum(dim=0)
        return grad_x, grad_bias, None


class GeGLUFeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.proj_in = nn.Linear(dim, 2 * hidden, bias=False)
        self.gate_bias = nn.Parameter(torch.zeros(2 * hidden))
        self.proj_out = nn.Linear(hidden, dim)

    def forward(self, x, row_mask):
        return self.proj_out(BiasGeGLUFunction.apply(self.proj_in(x), self.gate_bias, row_mask))


class TokenTagger(nn.Module):
    def __init__(self, vocab=30, dim=16, hidden=24, n_tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.norm = nn.LayerNorm(dim)
        self.ffn = GeGLUFeedForward(dim, hidden)
        self.tagger = nn.Linear(dim, n_tags)

    def forward(self, tokens):
        mask = (tokens != 0).float()
        h = self.embed(tokens)
        h = h + self.ffn(self.norm(h), mask)
        return self.tagger(h)


def batches(n=6, batch=6, seq=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        tokens = torch.randint(1, 30, (batch, seq), generator=g)
        lengths = torch.randint(3, seq + 1, (batch,), generator=g)
        tokens[torch.arange(seq)[None, :] >= lengths[:, None]] = 0
        yield tokens, tokens % 5


def train(model, optimizer, epochs=2):
    model.train()
    for epoch in range(epochs):
        for tokens, tags in batches(seed=epoch):
            logits = model(tokens)
            loss = F.cross_entropy(logits.flatten(0, 1), tags.flatten(), ignore_index=0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(TokenTagger())
    bias_before = model.module.ffn.gate_bias.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, optimizer)
    facts = {"gate_bias_changed": not torch.equal(bias_before, model.module.ffn.gate_bias)}
    return {"tagger": model.module}, facts

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
