import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DensityMLP(nn.Module):
    """Small field: position -> density (and colour for the main field)."""

    def __init__(self, hidden=32, with_rgb=True):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.sigma = nn.Linear(hidden, 1)
        self.rgb = nn.Linear(hidden, 3) if with_rgb else None

    def forward(self, pts):
        h = self.body(pts)
        sigma = F.softplus(self.sigma(h)).squeeze(-1)
        rgb = torch.sigmoid(self.rgb(h)) if self.rgb is not None else None
        return sigma, rgb


def render_weights(sigma, deltas):
    alpha = 1 - torch.exp(-sigma * deltas)
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha + 1e-7], dim=-1), dim=-1)[:, :-1]
    return alpha * trans


def sample_along_rays(origins, dirs, n=16):
    t = torch.linspace(0.1, 2.0, n).expand(origins.shape[0], n)
    pts = origins[:, None, :] + t[..., None] * dirs[:, None, :]
    deltas = torch.full_like(t, 1.9 / n)
    return pts, deltas


class ProposalSampler:
    """Proposal network: its weights guide where the field is evaluated; it is supervised by the
    interlevel loss against the field's weights."""

    def __init__(self, net):
        self.net = net

    def proposal_weights(self, pts, deltas):
        sigma, _ = self.net(pts)
        weights = render_weights(sigma, deltas)
        return weights.detach()


def interlevel_loss(prop_w, field_w):
    return F.relu(field_w.detach() - prop_w).pow(2).mean()


def train(field, proposal, loader, field_opt, prop_opt, scaler, epochs=2):
    sampler = ProposalSampler(proposal)
    for _ in range(epochs):
        for origins, dirs, target_rgb in loader:
            field_opt.zero_grad()
            prop_opt.zero_grad()
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                pts, deltas = sample_along_rays(origins, dirs)
                prop_w = sampler.proposal_weights(pts, deltas)
                sigma, rgb = field(pts)
                w = render_weights(sigma, deltas)
                color = (w[..., None] * rgb).sum(dim=1)
                loss = F.mse_loss(color.float(), target_rgb) + interlevel_loss(prop_w.float(), w.float())
            scaler.scale(loss).backward()
            scaler.step(field_opt)
            scaler.step(prop_opt)
            scaler.update()


def main():
    torch.manual_seed(0)
    field, proposal = DensityMLP(), DensityMLP(hidden=16, with_rgb=False)
    origins = torch.randn(64, 3) * 0.1
    dirs = F.normalize(torch.randn(64, 3), dim=-1)
    loader = DataLoader(TensorDataset(origins, dirs, torch.rand(64, 3)), batch_size=32, shuffle=True)
    field_opt = torch.optim.Adam(field.parameters(), lr=1e-3)
    prop_opt = torch.optim.Adam(proposal.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu")
    train(field, proposal, loader, field_opt, prop_opt, scaler)
    return {"field": field, "proposal": proposal}

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
