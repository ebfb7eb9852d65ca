import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_src": 2, "n_filters": 16, "vad_weight": 0.1, "lr": 1e-3, "epochs": 2}


class Separator(nn.Module):
    def __init__(self, n_src, n_filters):
        super().__init__()
        self.n_src = n_src
        self.encoder = nn.Conv1d(1, n_filters, 8, stride=4)
        self.mask_net = nn.Conv1d(n_filters, n_filters * n_src, 3, padding=1)
        self.decoder = nn.ConvTranspose1d(n_filters, 1, 8, stride=4)
        self.vad_head = nn.Linear(n_filters, 1)

    def forward(self, mix):
        w = torch.relu(self.encoder(mix))
        masks = torch.sigmoid(self.mask_net(w)).chunk(self.n_src, dim=1)
        est = torch.stack([self.decoder(w * m)[:, 0, :mix.shape[-1]] for m in masks], 1)
        return est, self.vad_head(w.mean(-1)).squeeze(-1)


def neg_si_snr(est, ref, eps=1e-8):
    est, ref = est - est.mean(-1, keepdim=True), ref - ref.mean(-1, keepdim=True)
    proj = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps) * ref
    return -10 * torch.log10(proj.pow(2).sum(-1) / ((est - proj).pow(2).sum(-1) + eps) + eps)


def pit_loss(est, refs):
    """Utterance-level permutation invariant training: best speaker assignment per utterance."""
    n_src = est.shape[1]
    per_perm = []
    for perm in itertools.permutations(range(n_src)):
        per_perm.append(torch.stack([neg_si_snr(est[:, i], refs[:, p]) for i, p in enumerate(perm)], 1).mean(1))
    losses = torch.tensor([[float(x) for x in col] for col in per_perm]).t()
    return losses.min(dim=1).values.mean()


def two_speaker_mixtures(n=24, T=256):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(T) / 8000.0
    f = 150 + 500 * torch.rand(n, 2, 1, generator=g)
    refs = torch.sin(2 * torch.pi * f * t)
    active = (torch.rand(n, generator=g) > 0.3).float()
    refs[:, 1] *= active[:, None]
    return TensorDataset(refs.sum(1, keepdim=True), refs, active)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = Separator(CFG["n_src"], CFG["n_filters"])
    optimizer = torch.optim.Adam(net.parameters(), lr=CFG["lr"])
    model, optimizer = fabric.setup(net, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(two_speaker_mixtures(), batch_size=8, shuffle=True))
    mask0, vad0 = net.mask_net.weight.detach().clone(), net.vad_head.weight.detach().clone()
    for _ in range(CFG["epochs"]):
        for mix, refs, active in loader:
            est, vad_logit = model(mix)
            loss = pit_loss(est, refs) + CFG["vad_weight"] * F.binary_cross_entropy_with_logits(vad_logit, active)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
    return {"net": net}, {
        "mask_net_changed": not torch.equal(mask0, net.mask_net.weight),
        "vad_head_changed": not torch.equal(vad0, net.vad_head.weight),
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
