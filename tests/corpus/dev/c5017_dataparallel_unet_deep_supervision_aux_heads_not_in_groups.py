import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"ch": 8, "classes": 2, "lr": 1e-2, "enc_lr_mult": 0.5, "aux_weights": (0.4, 0.2), "epochs": 2}


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class DeepSupUNet(nn.Module):
    """Two-level U-Net; auxiliary 1x1 heads on the bottleneck and the first decoder stage."""

    def __init__(self, ch, classes):
        super().__init__()
        self.encoder = nn.ModuleDict({"e1": conv_block(1, ch), "e2": conv_block(ch, 2 * ch)})
        self.bottleneck = conv_block(2 * ch, 2 * ch)
        self.decoder = nn.ModuleDict({"d2": conv_block(4 * ch, ch), "d1": conv_block(2 * ch, ch)})
        self.head = nn.Conv2d(ch, classes, 1)
        self.aux_heads = nn.ModuleList([nn.Conv2d(2 * ch, classes, 1), nn.Conv2d(ch, classes, 1)])

    def forward(self, x):
        e1 = self.encoder["e1"](x)
        e2 = self.encoder["e2"](F.max_pool2d(e1, 2))
        b = self.bottleneck(e2)
        d2 = self.decoder["d2"](torch.cat([b, e2], dim=1))
        d1 = self.decoder["d1"](torch.cat([F.interpolate(d2, scale_factor=2), e1], dim=1))
        return self.head(d1), [self.aux_heads[0](b), self.aux_heads[1](d2)]


def build_optimizer(model, cfg):
    net = model.module
    groups = [
        {"params": list(net.encoder.parameters()), "lr": cfg["lr"] * cfg["enc_lr_mult"]},
        {"params": list(net.bottleneck.parameters()) + list(net.decoder.parameters()) + list(net.head.parameters()),
         "lr": cfg["lr"]},
    ]
    return torch.optim.SGD(groups, lr=cfg["lr"], momentum=0.9)


def deep_supervision_loss(main_logits, aux_logits, mask, weights):
    loss = F.cross_entropy(main_logits, mask)
    for w, logits in zip(weights, aux_logits):
        small = F.interpolate(mask[:, None].float(), size=logits.shape[-2:], mode="nearest")[:, 0].long()
        loss = loss + w * F.cross_entropy(logits, small)
    return loss


def train(model, loader, optimizer, scheduler, cfg):
    model.train()
    for epoch in range(cfg["epochs"]):
        for img, mask in loader:
            main_logits, aux_logits = model(img)
            loss = deep_supervision_loss(main_logits, aux_logits, mask, cfg["aux_weights"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    img = torch.randn(32, 1, 8, 8, generator=g)
    mask = (img[:, 0] > 0.3).long()
    loader = DataLoader(TensorDataset(img, mask), batch_size=8, shuffle=True, generator=g)
    model = nn.DataParallel(DeepSupUNet(CFG["ch"], CFG["classes"]))
    optimizer = build_optimizer(model, CFG)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    aux0 = model.module.aux_heads[0].weight.detach().clone()
    dec0 = model.module.decoder["d1"][0].weight.detach().clone()
    train(model, loader, optimizer, scheduler, CFG)
    return {"model": model.module}, {
        "aux_heads_changed": not torch.equal(aux0, model.module.aux_heads[0].weight),
        "decoder_changed": not torch.equal(dec0, model.module.decoder["d1"][0].weight),
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
