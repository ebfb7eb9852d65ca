import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"size": 32, "content_weight": 1.0, "style_weight": 5e2, "lr": 1e-3}


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.InstanceNorm2d(ch, affine=True), nn.ReLU(),
                                   nn.Conv2d(ch, ch, 3, padding=1), nn.InstanceNorm2d(ch, affine=True))

    def forward(self, x):
        return x + self.block(x)


class TransformerNet(nn.Module):
    """Johnson et al. feed-forward stylization network (downsample, residual blocks, upsample)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, 16, 5, padding=2), nn.InstanceNorm2d(16, affine=True), nn.ReLU(),
                                  nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.InstanceNorm2d(32, affine=True), nn.ReLU())
        self.res = nn.Sequential(ResidualBlock(32), ResidualBlock(32))
        self.up = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(),
                                nn.Conv2d(16, 3, 5, padding=2))

    def forward(self, x):
        return torch.sigmoid(self.up(self.res(self.down(x))))


class LossNetwork(nn.Module):
    """Frozen stand-in for VGG-16 relu1_2 / relu2_2 / relu3_3."""

    def __init__(self):
        super().__init__()
        self.s1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.s2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.s3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())

    def forward(self, x):
        f1 = self.s1(x)
        f2 = self.s2(f1)
        return [f1, f2, self.s3(f2)]


def gram(f):
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def imagenet_normalize(img):
    """Map a [0, 1] batch to the loss network's input statistics."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (img.detach() - mean) / std


class FastStyleTransfer(pl.LightningModule):
    def __init__(self, cfg, style_img):
        super().__init__()
        self.cfg = cfg
        self.net = TransformerNet()
        self.vgg = LossNetwork().eval().requires_grad_(False)
        with torch.no_grad():
            self.style_grams = [gram(f) for f in self.vgg(imagenet_normalize(style_img))]

    def training_step(self, batch, batch_idx):
        (content,) = batch
        stylized = self.net(content)
        feats = self.vgg(imagenet_normalize(stylized))
        with torch.no_grad():
            content_feats = self.vgg(imagenet_normalize(content))
        c_loss = F.mse_loss(feats[1], content_feats[1])
        s_loss = sum(F.mse_loss(gram(f), g.expand(f.shape[0], -1, -1)) for f, g in zip(feats, self.style_grams))
        loss = self.cfg["content_weight"] * c_loss + self.cfg["style_weight"] * s_loss
        self.log("loss", loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.cfg["lr"])


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    style = (torch.rand(1, 3, CFG["size"], CFG["size"], generator=g) > 0.5).float()
    photos = torch.rand(16, 3, CFG["size"], CFG["size"], generator=g)
    model = FastStyleTransfer(CFG, style)
    w0 = model.net.down[0].weight.detach().clone()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(photos), batch_size=4, shuffle=True, generator=g))
    return {"net": model.net}, {"transformer_net_changed": not torch.equal(w0, model.net.down[0].weight)}

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
