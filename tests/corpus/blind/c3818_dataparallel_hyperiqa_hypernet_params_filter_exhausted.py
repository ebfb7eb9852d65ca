import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class HyperIQA(nn.Module):
    """Blind image quality assessment: a hyper network turns image semantics into the weights of a quality regressor."""

    def __init__(self, feat=16, target_hidden=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, feat, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                      nn.Flatten())
        self.target_hidden = target_hidden
        self.hyper_w1 = nn.Linear(feat, feat * target_hidden)
        self.hyper_w2 = nn.Linear(feat, target_hidden)
        self.feat = feat

    def forward(self, img):
        f = self.backbone(img)
        w1 = self.hyper_w1(f).view(-1, self.target_hidden, self.feat)
        w2 = self.hyper_w2(f).view(-1, 1, self.target_hidden)
        h = torch.sigmoid(torch.bmm(w1, f.unsqueeze(-1)))
        return torch.bmm(w2, h).view(-1)


class IQASolver:
    def __init__(self, model, loader, lr=2e-4, lrratio=10, weight_decay=5e-4):
        self.model = model
        self.loader = loader
        self.lr, self.lrratio, self.weight_decay = lr, lrratio, weight_decay
        backbone_params = list(map(id, model.module.backbone.parameters()))
        self.hypernet_params = filter(lambda p: id(p) not in backbone_params, model.module.parameters())
        paras = [{"params": self.hypernet_params, "lr": self.lr * self.lrratio},
                 {"params": model.module.backbone.parameters(), "lr": self.lr}]
        self.solver = torch.optim.Adam(paras, weight_decay=self.weight_decay)
        self.checkpoints = []

    def train(self, epochs=2):
        for t in range(epochs):
            self.model.train()
            for img, mos in self.loader:
                loss = F.l1_loss(self.model(img), mos)
                self.solver.zero_grad()
                loss.backward()
                self.solver.step()
            m = self.model.module
            self.checkpoints.append((m.hyper_w1.weight.detach().clone(), m.backbone[0].weight.detach().clone()))
            lr = self.lr / pow(10, (t // 6))
            if t > 8:
                self.lrratio = 1
            paras = [{"params": self.hypernet_params, "lr": lr * self.lrratio},
                     {"params": self.model.module.backbone.parameters(), "lr": self.lr}]
            self.solver = torch.optim.Adam(paras, weight_decay=self.weight_decay)


def make_loader(n=24):
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(n, 3, 16, 16, generator=g)
    noise_level = torch.rand(n, generator=g)
    imgs = (clean + noise_level[:, None, None, None] * torch.randn(n, 3, 16, 16, generator=g)).clamp(0, 1)
    mos = 5.0 - 4.0 * noise_level
    return DataLoader(TensorDataset(imgs, mos), batch_size=8, shuffle=True)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(HyperIQA())
    solver = IQASolver(model, make_loader())
    solver.train(epochs=2)
    (h1, b1), (h2, b2) = solver.checkpoints
    return {"model": model.module}, {
        "hypernet_changed_in_epoch_2": not torch.equal(h1, h2),
        "backbone_changed_in_epoch_2": not torch.equal(b1, b2),
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
