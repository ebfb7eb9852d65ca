import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class LightingBottleneck(nn.Module):
    """Swaps the predicted source lighting for the target lighting in the first `n_light` feature channels."""

    def __init__(self, ch=16, n_light=4, sh_dim=9):
        super().__init__()
        self.n_light = n_light
        self.predict = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(n_light, sh_dim))
        self.inject = nn.Linear(sh_dim, n_light)

    def forward(self, feat, target_sh):
        src_sh = self.predict(feat[:, :self.n_light])
        gain = torch.sigmoid(self.inject(target_sh))[:, :, None, None]
        feat[:, :self.n_light] *= gain
        return feat, src_sh


class RelightNet(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, ch, 3, stride=2, padding=1), nn.ReLU())
        self.light = LightingBottleneck(ch)
        self.up = nn.Sequential(nn.ConvTranspose2d(ch, ch, 2, stride=2), nn.ReLU(), nn.Conv2d(ch, 3, 3, padding=1))

    def forward(self, img, target_sh):
        feat, src_sh = self.light(self.down(img), target_sh)
        return torch.sigmoid(self.up(feat)), src_sh


def main():
    set_seed(0)
    accelerator = Accelerator()
    src = torch.rand(16, 3, 16, 16)
    src_sh, tgt_sh = torch.randn(16, 9), torch.randn(16, 9)
    tgt = (src * 0.8 + 0.1).clamp(0, 1)
    loader = DataLoader(TensorDataset(src, src_sh, tgt, tgt_sh), batch_size=4, shuffle=True)
    model = RelightNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for img, s_sh, target, t_sh in loader:
        relit, pred_sh = model(img, t_sh)
        loss = F.l1_loss(relit, target) + 0.1 * F.mse_loss(pred_sh, s_sh)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return {"model": model}

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
