import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class CondGenerator(nn.Module):
    def __init__(self, z_dim=6, n_classes=3, out_dim=10, hidden=24):
        super().__init__()
        self.label_emb = nn.Embedding(n_classes, z_dim)
        self.net = nn.Sequential(nn.Linear(2 * z_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Linear(hidden, out_dim))

    def forward(self, z, labels):
        return self.net(torch.cat([z, self.label_emb(labels)], dim=-1))


class CondDiscriminator(nn.Module):
    def __init__(self, in_dim=10, n_classes=3, hidden=24):
        super().__init__()
        self.label_emb = nn.Embedding(n_classes, in_dim)
        self.net = nn.Sequential(nn.Linear(2 * in_dim, hidden), nn.LeakyReLU(0.2), nn.Dropout(0.1),
                                 nn.Linear(hidden, 1))

    def forward(self, x, labels):
        return self.net(torch.cat([x, self.label_emb(labels)], dim=-1)).squeeze(-1)


@torch.no_grad()
def sample_fakes(generator, labels, z_dim=6):
    z = torch.randn(labels.shape[0], z_dim)
    return generator(z, labels)


def make_loader(n=48):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (n,), generator=g)
    centers = torch.randn(3, 10, generator=g) * 2
    rows = centers[labels] + 0.3 * torch.randn(n, 10, generator=g)
    return DataLoader(TensorDataset(rows, labels), batch_size=12, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    gen, disc = CondGenerator(), CondDiscriminator()
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-3, betas=(0.5, 0.999))
    gen, disc, opt_g, opt_d, loader = accelerator.prepare(gen, disc, opt_g, opt_d, make_loader())
    gen_before = gen.net[0].weight.detach().clone()
    for epoch in range(2):
        for rows, labels in loader:
            ones, zeros = torch.ones(len(rows)), torch.zeros(len(rows))
            fake = sample_fakes(gen, labels)
            d_loss = F.binary_cross_entropy_with_logits(disc(rows, labels), ones) + \
                F.binary_cross_entropy_with_logits(disc(fake, labels), zeros)
            opt_d.zero_grad()
            accelerator.backward(d_loss)
            opt_d.step()

            fake_for_g = sample_fakes(gen, labels)
            g_loss = F.binary_cross_entropy_with_logits(disc(fake_for_g, labels), ones)
            opt_g.zero_grad()
            accelerator.backward(g_loss)
            opt_g.step()
    facts = {"generator_changed": not torch.equal(gen_before, gen.net[0].weight)}
    return {"generator": gen, "discriminator": disc}, facts

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
