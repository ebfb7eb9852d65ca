import torch
import torch.nn as nn
import torch.nn.functional as F


class SepConv3d(nn.Module):
    """S3D-style separable block: spatial (1x3x3) then temporal (3x1x1) convolution."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv_s = nn.Conv3d(cin, cout, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False)
        self.bn_s = nn.BatchNorm3d(cout)
        self.conv_t = nn.Conv3d(cout, cout, (3, 1, 1), padding=(1, 0, 0), bias=False)
        self.bn_t = nn.BatchNorm3d(cout)

    def forward(self, x):
        return F.relu(self.bn_t(self.conv_t(F.relu(self.bn_s(self.conv_s(x))))))


class VisualBackbone(nn.Module):
    def __init__(self, widths=(8, 16, 16)):
        super().__init__()
        blocks, cin = [], 3
        for i, w in enumerate(widths):
            blocks.append(SepConv3d(cin, w, stride=2 if i else 1))
            cin = w
        self.base = nn.Sequential(*blocks)

    def forward(self, video):
        return self.base(video).mean(dim=(3, 4))  # B x C x T


class SignRecognizer(nn.Module):
    def __init__(self, n_glosses=12):
        super().__init__()
        self.backbone = VisualBackbone()
        self.temporal = nn.Conv1d(16, 16, 3, padding=1)
        self.classifier = nn.Linear(16, n_glosses)

    def forward(self, video):
        h = F.relu(self.temporal(self.backbone(video)))
        return self.classifier(h.mean(-1))


def freeze_first_block(model):
    """Keep the pretrained first S3D block fixed to save activation memory."""
    for p in model.backbone.base[0].parameters():
        p.requires_grad = False


def train(model, batches, optimizer):
    model.train()
    for video, gloss in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(video), gloss)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(2)
    g = torch.Generator().manual_seed(2)
    batches = [(torch.randn(4, 3, 4, 16, 16, generator=g), torch.randint(0, 12, (4,), generator=g)) for _ in range(3)]
    net = SignRecognizer()
    freeze_first_block(net)
    model = nn.DataParallel(net)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    frozen0 = net.backbone.base[0].conv_s.weight.detach().clone()
    later0 = net.backbone.base[1].conv_s.weight.detach().clone()
    train(model, batches, optimizer)
    return {"model": net}, {"first_block_changed": not torch.equal(frozen0, net.backbone.base[0].conv_s.weight),
                            "second_block_changed": not torch.equal(later0, net.backbone.base[1].conv_s.weight)}

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
