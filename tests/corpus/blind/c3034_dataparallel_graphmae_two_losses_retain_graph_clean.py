import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class GINLayer(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, x, adj):
        return F.relu(self.mlp(x + adj @ x))


class GraphMAE2(nn.Module):
    def __init__(self, in_dim=8, dim=16):
        super().__init__()
        self.enc_in = nn.Linear(in_dim, dim)
        self.encoder = nn.ModuleList([GINLayer(dim) for _ in range(2)])
        self.mask_token = nn.Parameter(torch.zeros(1, in_dim))
        self.decoder = nn.Linear(dim, in_dim)
        self.projector = nn.Sequential(nn.Linear(dim, dim), nn.PReLU(), nn.Linear(dim, dim))

    def encode(self, x, adj):
        h = self.enc_in(x)
        for layer in self.encoder:
            h = layer(h, adj)
        return h

    def forward(self, x, adj, mask):
        x_masked = torch.where(mask[:, None], self.mask_token.expand_as(x), x)
        h = self.encode(x_masked, adj)
        return h, self.decoder(h), self.projector(h)


def sce_loss(x, y, alpha=2):
    return (1 - F.cosine_similarity(x, y, dim=-1)).pow(alpha).mean()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 20
    adj = (torch.rand(n, n, generator=g) < 0.2).float()
    adj = adj / adj.sum(1, keepdim=True).clamp(min=1)
    x = torch.randn(n, 8, generator=g)
    model = nn.DataParallel(GraphMAE2())
    target_encoder = copy.deepcopy(model.module).requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6)
    w0 = model.module.enc_in.weight.detach().clone()
    for epoch in range(6):
        mask = torch.rand(n, generator=g) < 0.5
        h, recon, proj = model(x, adj, mask)
        with torch.no_grad():
            target = target_encoder.projector(target_encoder.encode(x, adj))
        rec_loss = sce_loss(recon[mask], x[mask])
        latent_loss = sce_loss(proj[mask], target[mask])
        optimizer.zero_grad()
        rec_loss.backward(retain_graph=True)  # both losses share the encoder graph
        latent_loss.backward()
        optimizer.step()
        scheduler.step()
        with torch.no_grad():
            for pt, ps in zip(target_encoder.parameters(), model.module.parameters()):
                pt.mul_(0.96).add_(ps, alpha=0.04)
    return {"model": model.module}, {"encoder_changed": not torch.equal(w0, model.module.enc_in.weight)}

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
