import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class RestorationNet(nn.Module):
    """Small residual CNN that removes moire / noise from one frame."""

    def __init__(self, width=8):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.tail = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, frame):
        return frame + self.tail(self.body(self.head(frame)))


class VideoRestoration(pl.LightningModule):
    """Frames arrive in temporal order; a temporal term keeps consecutive outputs consistent."""

    def __init__(self, lambda_t=0.5, lr=1e-3):
        super().__init__()
        self.net = RestorationNet()
        self.lambda_t, self.lr = lambda_t, lr
        self.prev_output = None
        self.prev_target = None

    def on_train_epoch_start(self):
        self.prev_output, self.prev_target = None, None

    def training_step(self, batch, batch_idx):
        noisy, clean = batch
        output = self.net(noisy)
        loss = F.l1_loss(output, clean)
        if self.prev_output is not None:
            loss = loss + self.lambda_t * F.l1_loss(output - self.prev_output, clean - self.prev_target)
        self.prev_output, self.prev_target = output, clean
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.lr)


def make_video(frames=8, size=8):
    g = torch.Generator().manual_seed(0)
    base = torch.rand(3, size, size, generator=g)
    clean = torch.stack([torch.roll(base, shifts=t, dims=-1) for t in range(frames)])
    grid = torch.sin(torch.arange(size).float() * 2.5)
    noisy = clean + 0.2 * grid[None, None, :, None] + 0.05 * torch.randn(clean.shape, generator=g)
    return DataLoader(TensorDataset(noisy, clean), batch_size=1, shuffle=False)


def main():
    pl.seed_everything(0)
    module = VideoRestoration()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    head_before = module.net.head.weight.detach().clone()
    trainer.fit(module, make_video())
    return {"net": module.net}, {"net_changed": not torch.equal(head_before, module.net.head.weight)}

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
