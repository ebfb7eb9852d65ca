import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class UNetEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1_1 = conv_bn(1, 4)
        self.conv2_1 = conv_bn(4, 8)
        self.conv3_1 = conv_bn(8, 8)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        x_1 = self.conv1_1(x)
        x_2 = self.conv2_1(self.pool(x_1))
        x_3 = self.conv3_1(self.pool(x_2))
        return x_1, x_2, x_3


class NestedDecoder(nn.Module):
    """Dense skip decoder of a small-target detector (DTUM-style): the last frame is appended before the head."""

    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.conv2_2 = conv_bn(8 + 8, 8)
        self.conv1_2 = conv_bn(8 + 4, 4)
        self.final = nn.Conv2d(4 + 1, 1, 1)

    def forward(self, frame, feats):
        x_1, x_2, x_3 = feats
        o_2 = self.conv2_2(torch.cat([self.up(x_3), x_2], dim=1)).detach()
        o_1 = self.conv1_2(torch.cat([self.up(o_2), x_1], dim=1))
        return self.final(torch.cat([o_1, frame], dim=1))


def soft_iou_loss(logits, mask, smooth=1.0):
    prob = torch.sigmoid(logits)
    inter = (prob * mask).sum(dim=(1, 2, 3))
    union = prob.sum(dim=(1, 2, 3)) + mask.sum(dim=(1, 2, 3)) - inter
    return 1 - ((inter + smooth) / (union + smooth)).mean()


class SmallTargetSegmenter(pl.LightningModule):
    def __init__(self, lr=1e-2):
        super().__init__()
        self.encoder = UNetEncoder()
        self.decoder = NestedDecoder()
        self.lr = lr

    def forward(self, frame):
        return self.decoder(frame, self.encoder(frame))

    def training_step(self, batch, batch_idx):
        frame, mask = batch
        logits = self(frame)
        loss = soft_iou_loss(logits, mask) + F.binary_cross_entropy_with_logits(logits, mask)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=5)}


def make_loader(n=16):
    frames = torch.rand(n, 1, 16, 16) * 0.2
    masks = torch.zeros(n, 1, 16, 16)
    for i in range(n):
        r, c = torch.randint(2, 14, (2,)).tolist()
        frames[i, :, r - 1:r + 1, c - 1:c + 1] += 0.8
        masks[i, :, r - 1:r + 1, c - 1:c + 1] = 1.0
    return DataLoader(TensorDataset(frames, masks), batch_size=4, shuffle=True)


def main():
    pl.seed_everything(0)
    model = SmallTargetSegmenter()
    deep0 = model.encoder.conv3_1[0].weight.detach().clone()
    head0 = model.decoder.final.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, make_loader())
    return {"model": model}, {
        "deep_encoder_changed": not torch.equal(deep0, model.encoder.conv3_1[0].weight),
        "head_changed": not torch.equal(head0, model.decoder.final.weight),
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
