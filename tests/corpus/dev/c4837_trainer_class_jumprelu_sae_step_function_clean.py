import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

CFG = {"d_in": 24, "d_sae": 64, "bandwidth": 0.05, "init_threshold": 0.1, "l0_coef": 2e-3, "lr": 2e-3, "epochs": 2}


def rectangle(x):
    return ((x > -0.5) & (x < 0.5)).to(x.dtype)


class StepFunction(torch.autograd.Function):
    """Heaviside step H(pre - threshold) with the JumpReLU paper's pseudo-derivative for the threshold."""

    @staticmethod
    def forward(ctx, pre, threshold, bandwidth):
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return (pre > threshold).to(pre.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        pre, threshold = ctx.saved_tensors
        bw = ctx.bandwidth
        threshold_grad = -(threshold / bw) * rectangle((pre - threshold) / bw) * grad_output
        return None, threshold_grad.sum(0), None


class JumpReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre, threshold, bandwidth):
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return pre * (pre > threshold).to(pre.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        pre, threshold = ctx.saved_tensors
        bw = ctx.bandwidth
        pre_grad = (pre > threshold).to(pre.dtype) * grad_output
        threshold_grad = -(threshold / bw) * rectangle((pre - threshold) / bw) * grad_output
        return pre_grad, threshold_grad.sum(0), None


class JumpReLUSAE(nn.Module):
    def __init__(self, d_in, d_sae, init_threshold, bandwidth):
        super().__init__()
        self.W_enc = nn.Parameter(torch.randn(d_in, d_sae) / d_in ** 0.5)
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.W_dec = nn.Parameter(self.W_enc.detach().t().clone())
        self.b_dec = nn.Parameter(torch.zeros(d_in))
        self.log_threshold = nn.Parameter(torch.full((d_sae,), init_threshold).log())
        self.bandwidth = bandwidth

    def forward(self, x):
        pre = (x - self.b_dec) @ self.W_enc + self.b_enc
        threshold = self.log_threshold.exp()
        feats = JumpReLUFunction.apply(pre, threshold, self.bandwidth)
        l0 = StepFunction.apply(pre, threshold, self.bandwidth).sum(-1).mean()
        return feats @ self.W_dec + self.b_dec, l0


class SAETrainer:
    def __init__(self, sae, cfg):
        self.sae, self.cfg = sae, cfg
        self.optimizer = torch.optim.Adam(sae.parameters(), lr=cfg["lr"], betas=(0.0, 0.999))

    def step(self, x):
        recon, l0 = self.sae(x)
        loss = (recon - x).pow(2).sum(-1).mean() + self.cfg["l0_coef"] * l0
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item(), l0.item()

    def fit(self, loader):
        for _ in range(self.cfg["epochs"]):
            for (x,) in loader:
                self.step(x)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    dictionary = torch.randn(48, CFG["d_in"], generator=g)
    codes = torch.relu(torch.randn(256, 48, generator=g) - 1.0)
    acts = codes @ dictionary
    sae = JumpReLUSAE(CFG["d_in"], CFG["d_sae"], CFG["init_threshold"], CFG["bandwidth"])
    th0 = sae.log_threshold.detach().clone()
    trainer = SAETrainer(sae, CFG)
    trainer.fit(DataLoader(TensorDataset(acts), batch_size=64, shuffle=True, generator=g))
    return {"sae": sae}, {"threshold_changed": not torch.equal(th0, sae.log_threshold)}

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
