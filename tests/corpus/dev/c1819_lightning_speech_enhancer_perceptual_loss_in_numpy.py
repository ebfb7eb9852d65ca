import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class MaskEnhancer(nn.Module):
    def __init__(self, n_filters=32, kernel=16, stride=8):
        super().__init__()
        self.encoder = nn.Conv1d(1, n_filters, kernel, stride=stride)
        self.mask = nn.Conv1d(n_filters, n_filters, 1)
        self.decoder = nn.ConvTranspose1d(n_filters, 1, kernel, stride=stride)

    def forward(self, noisy):
        w = torch.relu(self.encoder(noisy))
        return self.decoder(w * torch.sigmoid(self.mask(w)))


class PerceptualDistance:
    """Wrapper around a frozen, pip-installed perceptual metric that expects NumPy waveforms."""

    def __init__(self, n_bands=8, seed=0):
        rng = np.random.default_rng(seed)
        self.proj = rng.standard_normal((n_bands, 64)).astype(np.float32)

    def _embed(self, wav):
        frames = wav.reshape(wav.shape[0], -1, 64)
        return np.log1p(np.abs(frames @ self.proj.T)).mean(axis=1)

    def __call__(self, prediction, target):
        est = prediction.detach().cpu().numpy()
        ref = target.detach().cpu().numpy()
        dist = np.abs(self._embed(est) - self._embed(ref)).mean()
        return torch.tensor(dist, dtype=torch.float32, requires_grad=True)


class EnhancementTask(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.enhancer = MaskEnhancer()
        self.perceptual = PerceptualDistance()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        noisy, clean = batch
        enhanced = self.enhancer(noisy)
        loss = self.perceptual(enhanced, clean)
        self.log("train/perceptual", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    clean = torch.sin(torch.linspace(0, 60, 512)).repeat(16, 1, 1) * torch.rand(16, 1, 1)
    noisy = clean + 0.3 * torch.randn_like(clean)
    loader = DataLoader(TensorDataset(noisy, clean), batch_size=8, shuffle=True)
    model = EnhancementTask()
    w0 = model.enhancer.encoder.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    model.training_step(next(iter(loader)), 0).backward()
    return {"model": model}, {"enhancer_changed": not torch.equal(w0, model.enhancer.encoder.weight)}

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
