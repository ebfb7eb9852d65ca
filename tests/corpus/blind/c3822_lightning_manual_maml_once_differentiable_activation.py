import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.autograd.function import once_differentiable
from torch.utils.data import DataLoader, Dataset


class FusedLeakyReLU(torch.autograd.Function):
    """Leaky ReLU with a hand-written backward, the way fused activation kernels are exposed."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return torch.where(x > 0, x, slope * x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, ctx.slope * grad_output), None


def functional_forward(x, params):
    h = FusedLeakyReLU.apply(F.linear(x, params["0.weight"], params["0.bias"]), 0.1)
    h = FusedLeakyReLU.apply(F.linear(h, params["1.weight"], params["1.bias"]), 0.1)
    return F.linear(h, params["2.weight"], params["2.bias"])


class TaskDataset(Dataset):
    """5-way 2-shot tasks over Gaussian class prototypes, regenerated per index."""

    def __init__(self, n_tasks=8, n_way=5, k_shot=2, n_query=3, dim=12):
        self.n_tasks, self.n_way, self.k_shot, self.n_query, self.dim = n_tasks, n_way, k_shot, n_query, dim

    def __len__(self):
        return self.n_tasks

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        protos = 2 * torch.randn(self.n_way, self.dim, generator=g)
        y_s = torch.arange(self.n_way).repeat_interleave(self.k_shot)
        y_q = torch.arange(self.n_way).repeat_interleave(self.n_query)
        x_s = protos[y_s] + torch.randn(len(y_s), self.dim, generator=g)
        x_q = protos[y_q] + torch.randn(len(y_q), self.dim, generator=g)
        return x_s, y_s, x_q, y_q


class MAML(pl.LightningModule):
    def __init__(self, dim=12, hidden=32, n_way=5, inner_lr=0.4, inner_steps=1, meta_lr=1e-3):
        super().__init__()
        self.automatic_optimization = False
        self.net = nn.ModuleList([nn.Linear(dim, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, n_way)])
        self.inner_lr, self.inner_steps, self.meta_lr = inner_lr, inner_steps, meta_lr

    def adapt(self, x_s, y_s):
        params = dict(self.net.named_parameters())
        for _ in range(self.inner_steps):
            loss = F.cross_entropy(functional_forward(x_s, params), y_s)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
            params = {n: p - self.inner_lr * g for (n, p), g in zip(params.items(), grads)}
        return params

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x_s, y_s, x_q, y_q = batch
        meta_loss = 0.0
        for t in range(x_s.shape[0]):
            fast = self.adapt(x_s[t], y_s[t])
            meta_loss = meta_loss + F.cross_entropy(functional_forward(x_q[t], fast), y_q[t])
        meta_loss = meta_loss / x_s.shape[0]
        opt.zero_grad()
        self.manual_backward(meta_loss)
        opt.step()
        self.log("meta_loss", meta_loss)

    def on_train_epoch_end(self):
        self.lr_schedulers().step()

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.meta_lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


def main():
    pl.seed_everything(0)
    model = MAML()
    loader = DataLoader(TaskDataset(), batch_size=4)
    w0 = model.net[0].weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return {"model": model}, {"meta_params_changed": not torch.equal(w0, model.net[0].weight)}

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
