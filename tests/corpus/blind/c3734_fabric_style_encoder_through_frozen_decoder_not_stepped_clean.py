import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class StyleEncoder(nn.Module):
    def __init__(self, n_mels=8, style_dim=4):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(n_mels, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1))
        self.proj = nn.Linear(16, style_dim)

    def forward(self, mel):
        return self.proj(self.conv(mel).squeeze(-1))


class Decoder(nn.Module):
    """Pretrained first-stage decoder: (aligned text features, style) -> mel."""

    def __init__(self, d_text=6, style_dim=4, n_mels=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(d_text + style_dim, 16, 3, padding=1), nn.ReLU(), nn.Conv1d(16, n_mels, 1))

    def forward(self, text_feats, style):
        s = style.unsqueeze(-1).expand(-1, -1, text_feats.shape[-1])
        return self.net(torch.cat([text_feats, s], dim=1))


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    style_encoder, decoder = StyleEncoder(), Decoder()
    optimizer = torch.optim.AdamW(style_encoder.parameters(), lr=3e-3)
    style_encoder, optimizer = fabric.setup(style_encoder, optimizer)
    decoder = fabric.setup(decoder)
    s0 = style_encoder.module.proj.weight.detach().clone()
    d0 = decoder.module.net[0].weight.detach().clone()
    for _ in range(5):
        mel = torch.randn(4, 8, 12)
        text_feats = torch.randn(4, 6, 12)
        style = style_encoder(mel)
        mel_rec = decoder(text_feats, style)
        loss = F.l1_loss(mel_rec, mel)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"style_encoder": style_encoder.module}, {
        "style_encoder_changed": not torch.equal(s0, style_encoder.module.proj.weight),
        "decoder_kept": torch.equal(d0, decoder.module.net[0].weight),
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
