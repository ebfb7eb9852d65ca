import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyDetector(nn.Module):
    def __init__(self, n_cls=3, ch=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, ch, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(ch, ch, 3, stride=2, padding=1), nn.ReLU())
        self.neck = nn.Conv2d(ch, ch, 1)
        self.cls_head = nn.Conv2d(ch, n_cls, 1)
        self.box_head = nn.Conv2d(ch, 4, 1)

    def forward(self, images):
        with torch.no_grad():
            feats = self.backbone(images)
        h = F.relu(self.neck(feats))
        return self.cls_head(h), self.box_head(h)


def detection_loss(cls_logits, box_pred, cls_t, box_t):
    cls_loss = F.cross_entropy(cls_logits, cls_t)
    pos = (cls_t > 0).unsqueeze(1).float()
    box_loss = (F.smooth_l1_loss(box_pred, box_t, reduction="none") * pos).sum() / pos.sum().clamp_min(1.0)
    return cls_loss + box_loss


def toy_scenes(n=12, size=16):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(n, 3, size, size, generator=g)
    cls_t = torch.randint(0, 3, (n, size // 4, size // 4), generator=g)
    box_t = torch.randn(n, 4, size // 4, size // 4, generator=g)
    return DataLoader(TensorDataset(images, cls_t, box_t), batch_size=4, shuffle=True, generator=g)


def train(model, loader, optimizer, scheduler, epochs=1):
    model.train()
    for _ in range(epochs):
        for images, cls_t, box_t in loader:
            optimizer.zero_grad()
            cls_logits, box_pred = model(images)
            loss = detection_loss(cls_logits, box_pred, cls_t, box_t)
            loss.backward()
            optimizer.step()
            scheduler.step()


def main():
    torch.manual_seed(0)
    net = TinyDetector()
    b0, h0 = net.backbone[0].weight.detach().clone(), net.cls_head.weight.detach().clone()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=10)
    model = torch.compile(net, backend="eager")
    train(model, toy_scenes(), optimizer, scheduler)
    facts = {"backbone_changed": not torch.equal(b0, net.backbone[0].weight),
             "head_changed": not torch.equal(h0, net.cls_head.weight)}
    return {"model": net}, facts

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
