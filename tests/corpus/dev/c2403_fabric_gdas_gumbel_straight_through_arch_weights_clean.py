import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


CANDIDATES = ("conv3", "conv5", "avgpool", "skip")


def make_op(name, ch):
    if name == "conv3":
        return nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU())
    if name == "conv5":
        return nn.Sequential(nn.Conv2d(ch, ch, 5, padding=2, bias=False), nn.BatchNorm2d(ch), nn.ReLU())
    if name == "avgpool":
        return nn.AvgPool2d(3, stride=1, padding=1)
    return nn.Identity()


class MixedEdge(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.ops = nn.ModuleList(make_op(n, ch) for n in CANDIDATES)

    def forward(self, x, hardwts, index):
        # only the sampled op is evaluated; the others enter with weight 0 so gradients reach every alpha
        return sum(hardwts[i] * op(x) if i == index else hardwts[i] for i, op in enumerate(self.ops))


def gumbel_hard_weights(alphas, tau):
    gumbels = -torch.empty_like(alphas).exponential_().log()
    probs = F.softmax((alphas.log_softmax(dim=-1) + gumbels) / tau, dim=-1)
    index = probs.max(-1, keepdim=True)[1]
    one_h = torch.zeros_like(probs).scatter_(-1, index, 1.0)
    hardwts = one_h - probs.detach() + probs
    return hardwts, index


class SearchNet(nn.Module):
    def __init__(self, ch=8, n_edges=3, n_classes=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch))
        self.edges = nn.ModuleList(MixedEdge(ch) for _ in range(n_edges))
        self.arch_alphas = nn.Parameter(1e-3 * torch.randn(n_edges, len(CANDIDATES)))
        self.classifier = nn.Linear(ch, n_classes)
        self.tau = 10.0

    def weight_parameters(self):
        return [p for n, p in self.named_parameters() if n != "arch_alphas"]

    def forward(self, x):
        h = self.stem(x)
        for e, edge in enumerate(self.edges):
            hardwts, index = gumbel_hard_weights(self.arch_alphas[e], self.tau)
            h = edge(h, hardwts, int(index.item()))
        return self.classifier(h.mean(dim=(2, 3)))


def search(fabric, model, w_opt, a_opt, train_loader, val_loader, epochs=2):
    for epoch in range(epochs):
        model.tau = 10.0 - 4.0 * epoch
        for (xt, yt), (xv, yv) in zip(train_loader, val_loader):
            w_opt.zero_grad()
            fabric.backward(F.cross_entropy(model(xt), yt))
            w_opt.step()
            a_opt.zero_grad()
            fabric.backward(F.cross_entropy(model(xv), yv))
            a_opt.step()
        with torch.no_grad():
            genotype = [CANDIDATES[i] for i in model.arch_alphas.argmax(-1).tolist()]
            fabric.print(epoch, genotype)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    net = SearchNet()
    w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.05, momentum=0.9)
    a_opt = torch.optim.Adam([net.arch_alphas], lr=3e-2, betas=(0.5, 0.999))
    model, w_opt = fabric.setup(net, w_opt)
    a_opt = fabric.setup_optimizers(a_opt)
    data = lambda n: TensorDataset(torch.randn(n, 3, 8, 8), torch.randint(0, 4, (n,)))
    train_loader, val_loader = fabric.setup_dataloaders(DataLoader(data(32), batch_size=16),
                                                        DataLoader(data(32), batch_size=16))
    alphas0 = net.arch_alphas.detach().clone()
    search(fabric, model, w_opt, a_opt, train_loader, val_loader)
    return ({"alphas": net.arch_alphas, "stem": net.stem},
            {"alphas_changed": not torch.equal(alphas0, net.arch_alphas.detach())})

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
