import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MaskGenerator(nn.Module):
    """Image -> two-class mask logits (background / object)."""

    def __init__(self, ch=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(ch, 2, 1)

    def forward(self, x):
        return self.head(self.enc(x))


class MaskCritic(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(ch, ch, 3, stride=2, padding=1), nn.LeakyReLU(0.2))
        self.fc = nn.Linear(ch, 1)

    def forward(self, mask):
        return self.fc(self.net(mask).mean(dim=(2, 3)))


def logits_to_mask(logits):
    """Binary object mask the critic compares with masks from the shape bank."""
    return logits.argmax(dim=1, keepdim=True).float()


class UnpairedMaskGAN(pl.LightningModule):
    def __init__(self, lr=2e-4):
        super().__init__()
        self.generator = MaskGenerator()
        self.critic = MaskCritic()
        self.lr = lr
        self.automatic_optimization = False

    def adversarial(self, pred, real):
        target = torch.ones_like(pred) if real else torch.zeros_like(pred)
        return F.binary_cross_entropy_with_logits(pred, target)

    def training_step(self, batch, batch_idx):
        images, bank_masks = batch
        g_opt, d_opt = self.optimizers()

        fake_masks = logits_to_mask(self.generator(images))
        d_loss = self.adversarial(self.critic(bank_masks), True) + \
            self.adversarial(self.critic(fake_masks.detach()), False)
        d_opt.zero_grad()
        self.manual_backward(d_loss)
        d_opt.step()

        self.toggle_optimizer(g_opt)
        g_loss = self.adversarial(self.critic(fake_masks), True)
        g_opt.zero_grad()
        self.manual_backward(g_loss)
        g_opt.step()
        self.untoggle_optimizer(g_opt)
        self.log_dict({"d_loss": d_loss.item(), "g_loss": g_loss.item()})

    def configure_optimizers(self):
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(self.critic.parameters(), lr=self.lr, betas=(0.5, 0.999))
        return [g_opt, d_opt]


def main():
    pl.seed_everything(0)
    images = torch.randn(32, 3, 16, 16)
    bank = (torch.rand(32, 1, 16, 16) > 0.7).float()
    loader = DataLoader(TensorDataset(images, bank), batch_size=8, shuffle=True)
    model = UnpairedMaskGAN()
    w0 = model.generator.head.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"generator_changed": not torch.equal(w0, model.generator.head.weight.detach())})

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
