import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class SRResNet(nn.Module):
    def __init__(self, ch=16, scale=2):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, ch, 5, padding=2), nn.PReLU())
        self.res = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.PReLU(),
                                 nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))
        self.up = nn.Sequential(nn.Conv2d(ch, ch * scale ** 2, 3, padding=1), nn.PixelShuffle(scale), nn.PReLU())
        self.out = nn.Conv2d(ch, 3, 5, padding=2)

    def forward(self, x):
        h = self.head(x)
        return torch.tanh(self.out(self.up(h + self.res(h))))


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 32, 3, 2, 1),
                                 nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


class SRGAN(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.generator, self.critic = SRResNet(), Critic()
        self.cfg = cfg

    def upscale_for_critic(self, lr_img):
        with torch.no_grad():
            return self.generator(lr_img)

    def training_step(self, batch, batch_idx):
        lr_img, hr_img = batch
        opt_g, opt_d = self.optimizers()
        sr = self.upscale_for_critic(lr_img)
        d_loss = F.binary_cross_entropy_with_logits(self.critic(hr_img), torch.ones(hr_img.size(0), 1)) + \
            F.binary_cross_entropy_with_logits(self.critic(sr), torch.zeros(sr.size(0), 1))
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        content = F.mse_loss(sr, hr_img)
        adversarial = F.binary_cross_entropy_with_logits(self.critic(sr), torch.ones(sr.size(0), 1))
        g_loss = content + self.cfg["adv_weight"] * adversarial
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.cfg["lr"], betas=(0.9, 0.999))
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=self.cfg["lr"], betas=(0.9, 0.999))
        return [opt_g, opt_d]


def sr_pairs(n=8, size=16):
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    return DataLoader(TensorDataset(F.avg_pool2d(hr, 2), hr), batch_size=4, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = SRGAN({"lr": 1e-4, "adv_weight": 1e-3})
    g0 = model.generator.head[0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, sr_pairs())
    return {"model": model}, {"generator_changed": not torch.equal(g0, model.generator.head[0].weight)}

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
