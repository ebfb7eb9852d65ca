import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call
from torch.utils.data import DataLoader, Dataset


class SinusoidTasks(Dataset):
    def __init__(self, n_tasks=8, k_shot=5, k_query=10):
        g = torch.Generator().manual_seed(0)
        self.tasks = []
        for _ in range(n_tasks):
            amp, phase = 0.1 + 4.9 * torch.rand(1, generator=g), 3.14 * torch.rand(1, generator=g)
            xs = torch.rand(k_shot + k_query, 1, generator=g) * 10 - 5
            self.tasks.append((xs[:k_shot], amp * torch.sin(xs[:k_shot] + phase),
                               xs[k_shot:], amp * torch.sin(xs[k_shot:] + phase)))

    def __len__(self):
        return len(self.tasks)

    def __getitem__(self, i):
        return self.tasks[i]


class Regressor(nn.Module):
    def __init__(self, hidden=40):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def clone_params(module):
    return {name: p.detach().clone().requires_grad_(True) for name, p in module.named_parameters()}


def inner_adapt(module, params, x, y, steps=2, lr=0.01):
    for _ in range(steps):
        loss = F.mse_loss(functional_call(module, params, (x,)), y)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {n: p - lr * g for (n, p), g in zip(params.items(), grads)}
    return params


class MAML(pl.LightningModule):
    def __init__(self, meta_lr=1e-3):
        super().__init__()
        self.learner = Regressor()
        self.meta_lr = meta_lr
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        xs, ys, xq, yq = batch
        meta_loss = 0.0
        for i in range(xs.size(0)):
            fast = inner_adapt(self.learner, clone_params(self.learner), xs[i], ys[i])
            meta_loss = meta_loss + F.mse_loss(functional_call(self.learner, fast, (xq[i],)), yq[i])
        meta_loss = meta_loss / xs.size(0)
        opt.zero_grad()
        self.manual_backward(meta_loss)
        opt.step()
        self.log("meta_loss", meta_loss.item())

    def configure_optimizers(self):
        return torch.optim.Adam(self.learner.parameters(), lr=self.meta_lr)


def main():
    pl.seed_everything(0)
    model = MAML()
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(SinusoidTasks(), batch_size=4, shuffle=True))
    return {"learner": model.learner}

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
