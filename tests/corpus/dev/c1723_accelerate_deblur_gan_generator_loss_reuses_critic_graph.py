import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class DeblurGenerator(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.head = nn.Conv2d(3, ch, 3, padding=1)
        self.blocks = nn.Sequential(ResBlock(ch), ResBlock(ch))
        self.tail = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, blurred):
        return torch.clamp(blurred + self.tail(self.blocks(self.head(blurred))), -1, 1)


class PatchCritic(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(6, ch, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(ch, 1, 4, stride=2, padding=1))

    def forward(self, blurred, image):
        return self.net(torch.cat([blurred, image], dim=1))


class ConditionalGANModel:
    def __init__(self, accelerator, lambda_content=10.0):
        self.acc = accelerator
        self.netG, self.netD = DeblurGenerator(), PatchCritic()
        self.opt_G = torch.optim.Adam(self.netG.parameters(), lr=1e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(self.netD.parameters(), lr=1e-4, betas=(0.5, 0.999))
        self.netG, self.netD, self.opt_G, self.opt_D = accelerator.prepare(self.netG, self.netD, self.opt_G, self.opt_D)
        self.lambda_content = lambda_content

    def forward(self, blurred, sharp):
        self.real_A, self.real_B = blurred, sharp
        self.fake_B = self.netG(blurred)
        self.pred_fake = self.netD(self.real_A, self.fake_B)

    def backward_D(self):
        pred_real = self.netD(self.real_A, self.real_B)
        self.loss_D = self.pred_fake.mean() - pred_real.mean()
        self.acc.backward(self.loss_D)

    def backward_G(self):
        self.loss_G_gan = -self.pred_fake.mean()
        self.loss_G_content = F.l1_loss(self.fake_B, self.real_B) * self.lambda_content
        self.acc.backward(self.loss_G_gan + self.loss_G_content)

    def optimize_parameters(self, blurred, sharp):
        self.forward(blurred, sharp)
        self.opt_D.zero_grad()
        self.backward_D()
        self.opt_D.step()
        self.opt_G.zero_grad()
        self.backward_G()
        self.opt_G.step()


def main():
    set_seed(0)
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(16, 3, 16, 16, generator=g) * 2 - 1
    blurred = F.avg_pool2d(sharp, 3, stride=1, padding=1)
    accelerator = Accelerator()
    loader = accelerator.prepare(DataLoader(TensorDataset(blurred, sharp), batch_size=8, shuffle=True, generator=g))
    gan = ConditionalGANModel(accelerator)
    for blurred_b, sharp_b in loader:
        gan.optimize_parameters(blurred_b, sharp_b)
    return {"netG": gan.netG, "netD": gan.netD}

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
