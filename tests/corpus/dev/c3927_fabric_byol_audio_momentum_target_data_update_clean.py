import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def mlp(d_in, d_out, hidden=32):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class BYOLAudio(nn.Module):
    def __init__(self, n_mels=8, dim=16):
        super().__init__()
        self.online_encoder = nn.Sequential(nn.Conv1d(n_mels, 16, 3, padding=1), nn.ReLU(),
                                            nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.online_projector = mlp(16, dim)
        self.predictor = mlp(dim, dim)
        self.target_encoder = copy.deepcopy(self.online_encoder)
        self.target_projector = copy.deepcopy(self.online_projector)
        for p in list(self.target_encoder.parameters()) + list(self.target_projector.parameters()):
            p.requires_grad = False

    def online(self, x):
        return self.predictor(self.online_projector(self.online_encoder(x)))

    @torch.no_grad()
    def target(self, x):
        return self.target_projector(self.target_encoder(x))

    @torch.no_grad()
    def update_target(self, m=0.9):
        pairs = list(zip(self.online_encoder.parameters(), self.target_encoder.parameters()))
        pairs += list(zip(self.online_projector.parameters(), self.target_projector.parameters()))
        for p_o, p_t in pairs:
            p_t.data.mul_(m).add_(p_o.data, alpha=1 - m)


def byol_loss(p, z):
    return 2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1).mean()


def augment(x):
    gain = 1 + 0.2 * torch.randn(x.shape[0], 1, 1)
    shift = torch.randint(0, 3, (1,)).item()
    return torch.roll(x * gain, shifts=shift, dims=-1) + 0.05 * torch.randn_like(x)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    model = BYOLAudio()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(48, 8, 16)), batch_size=12, shuffle=True))
    enc0 = model.online_encoder[0].weight.detach().clone()
    tgt0 = model.target_encoder[0].weight.detach().clone()
    for epoch in range(2):
        for (x,) in loader:
            v1, v2 = augment(x), augment(x)
            loss = byol_loss(model.online(v1), model.target(v2)) + byol_loss(model.online(v2), model.target(v1))
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
            model.update_target()
    return {"model": model.module}, {
        "online_changed": not torch.equal(enc0, model.online_encoder[0].weight),
        "target_follows": not torch.equal(tgt0, model.target_encoder[0].weight),
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
