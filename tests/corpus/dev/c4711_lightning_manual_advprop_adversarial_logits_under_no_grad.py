import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"eps": 8 / 255, "alpha": 2 / 255, "pgd_steps": 2, "lr": 0.05, "adv_weight": 1.0}


class DualBNNet(nn.Module):
    """AdvProp: clean images use the main BatchNorm, adversarial images the auxiliary one."""

    def __init__(self, num_classes=4):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn_main = nn.BatchNorm2d(16)
        self.bn_aux = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x, adv=False):
        h = self.conv(x)
        h = self.bn_aux(h) if adv else self.bn_main(h)
        return self.fc(F.adaptive_avg_pool2d(F.relu(h), 1).flatten(1))


def pgd_attack(net, x, y, cfg):
    x_adv = (x + torch.empty_like(x).uniform_(-cfg["eps"], cfg["eps"])).clamp(0, 1)
    for _ in range(cfg["pgd_steps"]):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(net(x_adv, adv=True), y)
        grad = torch.autograd.grad(loss, x_adv)[0]
        x_adv = torch.min(torch.max(x_adv.detach() + cfg["alpha"] * grad.sign(), x - cfg["eps"]), x + cfg["eps"]).clamp(0, 1)
    return x_adv.detach()


def adversarial_logits(net, x, y, cfg):
    """Adversarial counterparts of a clean batch and their logits (also used for robust-accuracy logging)."""
    x_adv = pgd_attack(net, x, y, cfg)
    with torch.no_grad():
        logits = net(x_adv, adv=True)
    return logits, x_adv


class AdvPropModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.cfg = cfg
        self.net = DualBNNet()

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x, y = batch
        clean_logits = self.net(x)
        adv_logits, _ = adversarial_logits(self.net, x, y, self.cfg)
        loss = F.cross_entropy(clean_logits, y) + self.cfg["adv_weight"] * F.cross_entropy(adv_logits, y)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log("robust_acc", (adv_logits.argmax(-1) == y).float().mean().item())

    def configure_optimizers(self):
        return torch.optim.SGD(self.net.parameters(), lr=self.cfg["lr"], momentum=0.9)


def image_loader(n=16):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 3, 8, 8, generator=g)
    y = (x.mean((1, 2, 3)) * 8).long().clamp(max=3)
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    module = AdvPropModule(CFG)
    aux0 = module.net.bn_aux.weight.detach().clone()
    conv0 = module.net.conv.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(module, image_loader())
    return {"model": module.net}, {
        "aux_bn_changed": not torch.equal(aux0, module.net.bn_aux.weight),
        "conv_changed": not torch.equal(conv0, module.net.conv.weight),
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
