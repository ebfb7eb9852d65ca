import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RoundSTE(torch.autograd.Function):
    """Scalar quantizer for a neural audio codec: round in forward, straight-through in backward."""

    @staticmethod
    def forward(ctx, x, levels):
        q = torch.round(x.clamp(-1, 1) * levels) / levels
        ctx.mark_non_differentiable(q)
        return q

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


class CodecEncoder(nn.Module):
    def __init__(self, ch=8, latent=4):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, ch, 4, stride=2, padding=1), nn.ELU(),
                                 nn.Conv1d(ch, latent, 4, stride=2, padding=1), nn.Tanh())

    def forward(self, wav):
        return self.net(wav)


class CodecDecoder(nn.Module):
    def __init__(self, ch=8, latent=4):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose1d(latent, ch, 4, stride=2, padding=1), nn.ELU(),
                                 nn.ConvTranspose1d(ch, 1, 4, stride=2, padding=1))

    def forward(self, z):
        return self.net(z)


class NeuralCodec(nn.Module):
    def __init__(self, levels=8):
        super().__init__()
        self.encoder, self.decoder = CodecEncoder(), CodecDecoder()
        self.levels = levels

    def forward(self, wav):
        z = self.encoder(wav)
        return self.decoder(RoundSTE.apply(z, self.levels))


def multi_scale_spectral_loss(pred, target, sizes=(8, 16)):
    loss = F.l1_loss(pred, target)
    for n in sizes:
        sp = torch.stft(pred.squeeze(1), n, hop_length=n // 4, window=torch.hann_window(n), return_complex=True).abs()
        st = torch.stft(target.squeeze(1), n, hop_length=n // 4, window=torch.hann_window(n), return_complex=True).abs()
        loss = loss + F.l1_loss(sp, st)
    return loss


def speech_clips(n=8, length=64):
    g = torch.Generator().manual_seed(0)
    t = torch.linspace(0, 1, length)
    freqs = torch.randint(2, 8, (n, 1), generator=g).float()
    wav = 0.5 * torch.sin(2 * torch.pi * freqs * t)[:, None] + 0.05 * torch.randn(n, 1, length, generator=g)
    return DataLoader(TensorDataset(wav), batch_size=4, shuffle=True, generator=g)


def train(codec, encode, decode, loader, optimizer, epochs):
    for _ in range(epochs):
        for (wav,) in loader:
            recon = decode(RoundSTE.apply(encode(wav), codec.levels))
            loss = multi_scale_spectral_loss(recon, wav)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    codec = NeuralCodec()
    encode = torch.compile(codec.encoder, backend="eager")
    decode = torch.compile(codec.decoder, backend="eager")
    optimizer = torch.optim.Adam(codec.parameters(), lr=2e-3)
    enc0 = codec.encoder.net[0].weight.detach().clone()
    dec0 = codec.decoder.net[0].weight.detach().clone()
    train(codec, encode, decode, speech_clips(), optimizer, epochs=2)
    return {"codec": codec}, {
        "encoder_changed": not torch.equal(enc0, codec.encoder.net[0].weight),
        "decoder_changed": not torch.equal(dec0, codec.decoder.net[0].weight),
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
