import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"lr": 1e-3, "frames_per_video": 3, "videos": 2, "resp_scale": 1e-3}


class AlexNetLite(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU(),
                                      nn.Conv2d(16, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 32, 3))

    def forward(self, x):
        return self.features(x)


class SiamFC(nn.Module):
    def __init__(self, resp_scale):
        super().__init__()
        self.backbone = AlexNetLite()
        self.adjust = nn.Parameter(torch.tensor(resp_scale))

    def xcorr(self, z_feat, x_feat):
        B = z_feat.size(0)
        out = F.conv2d(x_feat.reshape(1, -1, *x_feat.shape[-2:]), z_feat, groups=B)
        return out.reshape(B, 1, *out.shape[-2:]) * self.adjust


def logistic_labels(size, radius=2):
    c = (size - 1) / 2
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return (((yy - c) ** 2 + (xx - c) ** 2).sqrt() <= radius).float()


class TrackerTrainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9)

    def train_video(self, template, frames):
        self.model.train()
        z_feat = self.model.backbone(template)
        losses = []
        for search in frames:
            resp = self.model.xcorr(z_feat, self.model.backbone(search))
            labels = logistic_labels(resp.size(-1)).expand_as(resp)
            loss = F.binary_cross_entropy_with_logits(resp, labels)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)

    def fit(self, videos):
        return [self.train_video(t, fr) for t, fr in videos]


def synthetic_videos(cfg):
    g = torch.Generator().manual_seed(0)
    vids = []
    for _ in range(cfg["videos"]):
        template = torch.randn(2, 3, 15, 15, generator=g)
        frames = [torch.randn(2, 3, 27, 27, generator=g) for _ in range(cfg["frames_per_video"])]
        vids.append((template, frames))
    return vids


def main():
    torch.manual_seed(0)
    model = SiamFC(CFG["resp_scale"])
    TrackerTrainer(model, CFG).fit(synthetic_videos(CFG))
    return {"model": model}

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
