import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class GradientReverseFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff=1.0):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.coeff, None


class GradientReverseLayer(nn.Module):
    def forward(self, x, coeff):
        return GradientReverseFunction.apply(x, coeff)


class DANN(nn.Module):
    def __init__(self, in_dim=10, feat=16, n_classes=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, feat), nn.ReLU(), nn.Linear(feat, feat), nn.ReLU())
        self.classifier = nn.Linear(feat, n_classes)
        self.grl = GradientReverseLayer()
        self.domain_discri = nn.Sequential(nn.Linear(feat, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x_s, x_t, coeff):
        f = self.backbone(torch.cat([x_s, x_t]))
        y_s = self.classifier(f[: len(x_s)])
        d = self.domain_discri(self.grl(f, coeff))
        return y_s, d


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = DANN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    model, optimizer = fabric.setup(model, optimizer)
    g = torch.Generator().manual_seed(0)
    source = TensorDataset(torch.randn(8, 10, generator=g), torch.randint(0, 3, (8,), generator=g))
    target = TensorDataset(torch.randn(8, 10, generator=g) + 1.0)
    src_loader, tgt_loader = fabric.setup_dataloaders(DataLoader(source, batch_size=4), DataLoader(target, batch_size=4))
    disc_before = model.module.domain_discri[0].weight.detach().clone()
    model.train()
    for step, ((x_s, labels_s), (x_t,)) in enumerate(zip(src_loader, tgt_loader)):
        coeff = 2.0 / (1.0 + torch.exp(torch.tensor(-10.0 * step / 2))).item() - 1.0
        y_s, d = model(x_s, x_t, coeff)
        cls_loss = F.cross_entropy(y_s, labels_s)
        d_label = torch.cat([torch.ones(len(x_s), 1), torch.zeros(len(x_t), 1)])
        transfer_loss = F.binary_cross_entropy_with_logits(d, d_label)
        loss = cls_loss + transfer_loss
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    facts = {"discriminator_changed": not torch.equal(disc_before, model.module.domain_discri[0].weight)}
    return {"model": model.module}, facts

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
