import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset


class FrozenImageEncoder(nn.Module):
    """Stand-in for a pretrained DINO/ViT encoder producing two feature levels."""

    def __init__(self):
        super().__init__()
        self.stage1 = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.GELU())
        self.stage2 = nn.Sequential(nn.Conv2d(16, 32, 3, 2, 1), nn.GELU())

    def forward(self, x):
        f1 = self.stage1(x)
        return f1, self.stage2(f1)


class DepthDecoder(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, c1=16, c2=32, features=16, max_depth=10.0):
        super().__init__()
        self.proj1 = nn.Conv2d(c1, features, 1)
        self.proj2 = nn.Conv2d(c2, features, 1)
        self.refine = nn.Sequential(nn.Conv2d(features, features, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(features, 1, 3, padding=1)

    def forward(self, f1, f2, out_size):
        x = self.proj1(f1) + F.interpolate(self.proj2(f2), size=f1.shape[-2:], mode="bilinear", align_corners=False)
        x = self.refine(x)
        depth = torch.sigmoid(self.head(x)) * self.config.max_depth
        return F.interpolate(depth, size=out_size, mode="bilinear", align_corners=False).squeeze(1)


def load_frozen_encoder():
    torch.manual_seed(1)
    encoder = FrozenImageEncoder()
    encoder.requires_grad_(False)
    encoder.eval()
    return encoder


def train(encoder, decoder, loader, optimizer, lr_scheduler, epochs):
    for _ in range(epochs):
        decoder.train()
        for images, depth in loader:
            with torch.no_grad():
                f1, f2 = encoder(images)
            pred = decoder(f1, f2, depth.shape[-2:])
            loss = F.l1_loss(torch.log(pred + 1e-3), torch.log(depth + 1e-3))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()


def main():
    torch.manual_seed(0)
    encoder = load_frozen_encoder()
    decoder = DepthDecoder()
    trainable = [p for p in decoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=2e-3, weight_decay=1e-4)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(12, 3, 32, 32, generator=g)
    depth = 1.0 + 5.0 * images.mean(1)
    loader = DataLoader(TensorDataset(images, depth), batch_size=4, shuffle=True, generator=g)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=2, num_training_steps=6)
    enc0 = encoder.stage1[0].weight.detach().clone()
    dec0 = decoder.proj1.weight.detach().clone()
    train(encoder, decoder, loader, optimizer, lr_scheduler, epochs=2)
    return {"decoder": decoder}, {
        "encoder_unchanged": torch.equal(enc0, encoder.stage1[0].weight),
        "decoder_changed": not torch.equal(dec0, decoder.proj1.weight),
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
