import itertools

import numpy as np
import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def cal_sisnr(ref_sig, out_sig, eps=1e-8):
    """Scale-invariant SNR of one estimate (numpy), as used by the separation evaluation scripts."""
    ref_sig = ref_sig - ref_sig.mean()
    out_sig = out_sig - out_sig.mean()
    proj = (out_sig @ ref_sig) / (ref_sig @ ref_sig + eps) * ref_sig
    noise = out_sig - proj
    return 10 * np.log10((proj @ proj) / (noise @ noise + eps) + eps)


def pit_sisnr_loss(est_sources, ref_sources):
    """Negative SI-SNR under the best speaker permutation (utterance-level PIT)."""
    est = est_sources.detach().cpu().numpy()
    ref = ref_sources.cpu().numpy()
    scores = []
    for b in range(est.shape[0]):
        perms = itertools.permutations(range(est.shape[1]))
        scores.append(max(np.mean([cal_sisnr(ref[b, i], est[b, p[i]]) for i in range(len(p))]) for p in perms))
    return torch.tensor(-np.mean(scores), dtype=torch.float32)


class TinyTasNet(nn.Module):
    def __init__(self, n_filters=16, kernel=8, n_src=2):
        super().__init__()
        self.n_src, self.n_filters = n_src, n_filters
        self.encoder = nn.Conv1d(1, n_filters, kernel, stride=kernel // 2, bias=False)
        self.separator = nn.Sequential(nn.Conv1d(n_filters, 32, 3, padding=1), nn.PReLU(),
                                       nn.Conv1d(32, 32, 3, padding=2, dilation=2), nn.PReLU(),
                                       nn.Conv1d(32, n_src * n_filters, 1))
        self.decoder = nn.ConvTranspose1d(n_filters, 1, kernel, stride=kernel // 2, bias=False)

    def forward(self, mixture):
        w = torch.relu(self.encoder(mixture.unsqueeze(1)))
        masks = torch.sigmoid(self.separator(w)).view(w.shape[0], self.n_src, self.n_filters, -1)
        sources = [self.decoder(w * masks[:, s]) for s in range(self.n_src)]
        return torch.cat(sources, 1)[..., :mixture.shape[-1]]


class SeparationSystem(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.model = TinyTasNet()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        mixture, sources = batch
        loss = pit_sisnr_loss(self.model(mixture), sources)
        self.log("train_si_snr", -loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def make_loader(n=16, length=256):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(length) / 8000.0
    f1 = 200 + 400 * torch.rand(n, 1, generator=g)
    f2 = 900 + 600 * torch.rand(n, 1, generator=g)
    s1 = torch.sin(2 * torch.pi * f1 * t)
    s2 = 0.5 * torch.sign(torch.sin(2 * torch.pi * f2 * t))
    sources = torch.stack([s1, s2], 1)
    return DataLoader(TensorDataset(sources.sum(1), sources), batch_size=4, shuffle=True)


def main():
    pl.seed_everything(0)
    system = SeparationSystem()
    enc0 = system.model.encoder.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(system, make_loader())
    return {"system": system}, {"encoder_changed": not torch.equal(enc0, system.model.encoder.weight)}

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
