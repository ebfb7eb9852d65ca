import lightning.pytorch as pl
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Element(nn.Module):
    """A beamline element acting on particle coordinates (x, x') with a 2x2 transfer map."""

    def transfer_map(self):
        raise NotImplementedError

    def forward(self, particles):
        return particles @ self.transfer_map().T


class Drift(Element):
    def __init__(self, length):
        super().__init__()
        self.length = torch.as_tensor(length, dtype=torch.float64)

    def transfer_map(self):
        one, zero = torch.ones((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)
        return torch.stack([torch.stack([one, self.length]), torch.stack([zero, one])])


class ThinQuadrupole(Element):
    def __init__(self, k1l):
        super().__init__()
        self.k1l = torch.as_tensor(k1l, dtype=torch.float64)

    def transfer_map(self):
        one, zero = torch.ones((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)
        return torch.stack([torch.stack([one, zero]), torch.stack([-self.k1l, one])])


class Segment(nn.Module):
    def __init__(self, elements):
        super().__init__()
        self.elements = nn.ModuleList(elements)

    def forward(self, particles):
        for element in self.elements:
            particles = element(particles)
        return particles


class BeamlineTuner(pl.LightningModule):
    """Tunes the quadrupole strengths so the beam is focused at the screen."""

    def __init__(self, k_init=(0.5, -0.5)):
        super().__init__()
        self.q1_strength = nn.Parameter(torch.tensor(k_init[0]))
        self.q2_strength = nn.Parameter(torch.tensor(k_init[1]))
        self.segment = Segment([Drift(1.0), ThinQuadrupole(self.q1_strength), Drift(0.5),
                                ThinQuadrupole(self.q2_strength), Drift(1.0)])

    def training_step(self, batch, batch_idx):
        (particles,) = batch
        out = self.segment(particles.double())
        beam_size = out[:, 0].std()
        self.log("beam_size", beam_size)
        return beam_size

    def configure_optimizers(self):
        return torch.optim.Adam(self.segment.parameters(), lr=1e-2)


def main():
    pl.seed_everything(0)
    particles = torch.randn(64, 2) * torch.tensor([1e-3, 1e-4])
    tuner = BeamlineTuner()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(
        tuner, DataLoader(TensorDataset(particles), batch_size=32))
    return {"tuner": tuner}

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
