import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_filters": 16, "kernel": 8, "stride": 4, "lr": {"codec": 1e-3, "masker": 2e-3}, "epochs": 2}


class TinyConvTasNet(nn.Module):
    def __init__(self, n_filters, kernel, stride):
        super().__init__()
        self.encoder = nn.Conv1d(1, n_filters, kernel, stride=stride, bias=False)
        self.masker = nn.Sequential(nn.Conv1d(n_filters, 32, 1), nn.PReLU(), nn.Conv1d(32, 32, 3, padding=2, dilation=2),
                                    nn.PReLU(), nn.Conv1d(32, n_filters, 1), nn.Sigmoid())
        self.decoder = nn.ConvTranspose1d(n_filters, 1, kernel, stride=stride, bias=False)

    def forward(self, mix):
        w = torch.relu(self.encoder(mix))
        return self.decoder(w * self.masker(w))[..., :mix.shape[-1]]


def si_snr(est, ref, eps=1e-8):
    est = est - est.mean(-1, keepdim=True)
    ref = ref - ref.mean(-1, keepdim=True)
    proj = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps) * ref
    noise = est - proj
    return 10 * torch.log10(proj.pow(2).sum(-1) / (noise.pow(2).sum(-1) + eps) + eps)


def build_optimizer(model, cfg):
    """Codec (encoder/decoder) and masker get their own learning rates."""
    codec, masker = [], []
    for name, p in model.named_parameters():
        if name.startswith(("encoder", "decoder")):
            codec.append(p)
        elif "masker" in name:
            masker.append(p)
    return torch.optim.Adam([{"params": codec, "lr": cfg["lr"]["codec"]}, {"params": masker, "lr": cfg["lr"]["masker"]}])


def train_one_epoch(model, loader, optimizer, scheduler):
    model.train()
    for mix, clean in loader:
        loss = -si_snr(model(mix), clean).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()


def noisy_tones(n=32, T=256):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(T) / 8000.0
    freqs = 200 + 400 * torch.rand(n, 1, generator=g)
    clean = torch.sin(2 * torch.pi * freqs * t).unsqueeze(1)
    return TensorDataset(clean + 0.3 * torch.randn(n, 1, T, generator=g), clean)


def main():
    torch.manual_seed(0)
    net = TinyConvTasNet(CFG["n_filters"], CFG["kernel"], CFG["stride"])
    model = nn.DataParallel(net)
    optimizer = build_optimizer(model, CFG)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    enc0, mask0 = net.encoder.weight.detach().clone(), net.masker[0].weight.detach().clone()
    loader = DataLoader(noisy_tones(), batch_size=8, shuffle=True)
    for _ in range(CFG["epochs"]):
        train_one_epoch(model, loader, optimizer, scheduler)
    return {"net": net}, {
        "encoder_changed": not torch.equal(enc0, net.encoder.weight),
        "masker_changed": not torch.equal(mask0, net.masker[0].weight),
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
