import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class MaskedAutoencoder(nn.Module):
    def __init__(self, dim=16, hidden=24, mask_ratio=0.5):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        self.decoder = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.mask_ratio = mask_ratio

    def forward(self, x):
        mask = (torch.rand_like(x) < self.mask_ratio).float()
        recon = self.decoder(self.encoder(x * (1 - mask)))
        return ((recon - x) ** 2 * mask).sum() / mask.sum().clamp_min(1.0)


def train_epoch(accelerator, model, loader, optimizer, scheduler, scaler, max_norm=1.0):
    losses = []
    for (x,) in loader:
        with accelerator.accumulate(model):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=False):
                loss = model(x)
            scaler.scale(loss).backward()
            if accelerator.sync_gradients:
                scaler.unscale_(optimizer.optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
                scaler.step(optimizer.optimizer)
                scaler.update()
                scheduler.step()
                optimizer.zero_grad()
        losses.append(loss.detach().item())
    return losses


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    model = MaskedAutoencoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 2))
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    loader = DataLoader(TensorDataset(torch.randn(32, 16)), batch_size=4)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    enc_before = model.encoder[0].weight.detach().clone()
    dec_before = model.decoder[2].weight.detach().clone()
    train_epoch(accelerator, model, loader, optimizer, scheduler, scaler)
    facts = {"encoder_changed": not torch.equal(enc_before, model.encoder[0].weight),
             "decoder_changed": not torch.equal(dec_before, model.decoder[2].weight)}
    return {"model": model}, facts

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
