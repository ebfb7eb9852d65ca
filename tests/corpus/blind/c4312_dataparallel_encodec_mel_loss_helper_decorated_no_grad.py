import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def mel_filterbank(n_freqs, n_mels):
    fb = torch.zeros(n_mels, n_freqs)
    edges = torch.linspace(0, n_freqs - 1, n_mels + 2)
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        f = torch.arange(n_freqs).float()
        fb[m] = torch.clamp(torch.minimum((f - lo) / (mid - lo), (hi - f) / (hi - mid)), min=0)
    return fb


MEL_FB = mel_filterbank(17, 8)


@torch.no_grad()
def log_mel(wav, n_fft=32, hop=8):
    spec = torch.stft(wav.squeeze(1), n_fft, hop, window=torch.hann_window(n_fft), return_complex=True).abs()
    return torch.log(MEL_FB @ spec + 1e-5)


class VectorQuantizer(nn.Module):
    def __init__(self, codebook_size, dim):
        super().__init__()
        self.codebook = nn.Embedding(codebook_size, dim)

    def forward(self, z):
        flat = z.permute(0, 2, 1).reshape(-1, z.shape[1])
        q = self.codebook(torch.cdist(flat, self.codebook.weight).argmin(-1))
        vq_loss = F.mse_loss(q, flat.detach()) + 0.25 * F.mse_loss(flat, q.detach())
        q = flat + (q - flat).detach()
        return q.view(z.shape[0], z.shape[2], -1).permute(0, 2, 1), vq_loss


class EnCodecLite(nn.Module):
    def __init__(self, dim=16, codebook_size=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(1, 16, 7, padding=3), nn.ELU(), nn.Conv1d(16, dim, 4, stride=4))
        self.quantizer = VectorQuantizer(codebook_size, dim)
        self.decoder = nn.Sequential(nn.ConvTranspose1d(dim, 16, 4, stride=4), nn.ELU(), nn.Conv1d(16, 1, 7, padding=3), nn.Tanh())

    def forward(self, wav):
        q, vq_loss = self.quantizer(self.encoder(wav))
        return self.decoder(q), vq_loss


def reconstruction_loss(recon, wav, cfg):
    mel = F.l1_loss(log_mel(recon), log_mel(wav))
    return cfg["mel_w"] * mel


def train_one_epoch(model, loader, optimizer, cfg):
    model.train()
    for (wav,) in loader:
        recon, vq_loss = model(wav)
        loss = reconstruction_loss(recon, wav, cfg) + vq_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def build_optimizer(model, cfg):
    m = model.module
    groups = [{"params": m.encoder.parameters(), "lr": cfg["lr"]},
              {"params": m.quantizer.parameters(), "lr": cfg["lr"] * 2},
              {"params": m.decoder.parameters(), "lr": cfg["lr"]}]
    return torch.optim.Adam(groups, betas=(0.8, 0.99))


def main():
    torch.manual_seed(0)
    cfg = {"lr": 1e-3, "mel_w": 1.0}
    net = EnCodecLite()
    model = nn.DataParallel(net)
    optimizer = build_optimizer(model, cfg)
    t = torch.linspace(0, 1, 128)
    wav = 0.5 * torch.sin(2 * torch.pi * (torch.rand(16, 1, 1) * 15 + 5) * t)
    loader = DataLoader(TensorDataset(wav), batch_size=4, shuffle=True)
    dec0 = net.decoder[2].weight.detach().clone()
    enc0 = net.encoder[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, cfg)
    return {"model": net}, {
        "decoder_changed": not torch.equal(dec0, net.decoder[2].weight),
        "encoder_changed": not torch.equal(enc0, net.encoder[0].weight),
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
