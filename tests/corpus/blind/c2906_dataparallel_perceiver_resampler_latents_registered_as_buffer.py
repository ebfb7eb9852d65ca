import torch
import torch.nn as nn
import torch.nn.functional as F


class PerceiverAttention(nn.Module):
    def __init__(self, dim, heads=2):
        super().__init__()
        self.norm_media = nn.LayerNorm(dim)
        self.norm_latents = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, media, latents):
        m, l = self.norm_media(media), self.norm_latents(latents)
        kv = torch.cat([m, l], dim=1)
        latents = latents + self.attn(l, kv, kv, need_weights=False)[0]
        return latents + self.ff(latents)


class PerceiverResampler(nn.Module):
    """Compresses a variable number of patch features into a fixed set of learned query tokens."""

    def __init__(self, dim=16, num_queries=4, depth=2):
        super().__init__()
        self.register_buffer("latents", torch.randn(num_queries, dim) * dim ** -0.5)
        self.layers = nn.ModuleList([PerceiverAttention(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, media):
        latents = self.latents.unsqueeze(0).expand(media.shape[0], -1, -1)
        for layer in self.layers:
            latents = layer(media, latents)
        return self.norm(latents)


class ImagePromptClassifier(nn.Module):
    def __init__(self, patch_dim=12, dim=16, n_classes=3):
        super().__init__()
        self.patch_proj = nn.Linear(patch_dim, dim)
        self.resampler = PerceiverResampler(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, patches):
        tokens = self.resampler(self.patch_proj(patches))
        return self.head(tokens.mean(1))


def make_batches(n=24, patches=6, patch_dim=12, batch=8):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, patches, patch_dim, generator=g)
    y = (x[:, :, 0].mean(1) > 0).long() + (x[:, 0, 1] > 0.5).long()
    return list(zip(x.split(batch), y.split(batch)))


def train(model, optimizer, batches, epochs=3):
    model.train()
    for epoch in range(epochs):
        for x, y in batches:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    net = ImagePromptClassifier()
    model = nn.DataParallel(net)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    latents_before = net.resampler.latents.clone()
    train(model, optimizer, make_batches())
    facts = {"latents_changed": not torch.equal(latents_before, net.resampler.latents),
             "latents_in_parameters": any(n.endswith("latents") for n, _ in net.named_parameters())}
    return {"net": net, "latent_queries": net.resampler.latents}, facts

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
