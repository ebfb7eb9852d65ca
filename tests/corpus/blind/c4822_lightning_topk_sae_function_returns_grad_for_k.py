import torch
import torch.nn as nn
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"d_in": 32, "d_sae": 128, "k": 8, "aux_k": 16, "aux_coef": 1 / 32, "lr": 1e-3, "dead_after": 2}


class TopKActivation(torch.autograd.Function):
    """Keep the k largest pre-activations per row (ReLU'd); the gradient flows only through the kept entries."""

    @staticmethod
    def forward(ctx, pre, k):
        vals, idx = pre.topk(k, dim=-1)
        out = torch.zeros_like(pre).scatter_(-1, idx, vals.relu())
        ctx.save_for_backward(idx, vals)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        idx, vals = ctx.saved_tensors
        grad_pre = torch.zeros_like(grad_output).scatter_(-1, idx, grad_output.gather(-1, idx) * (vals > 0))
        return grad_pre, grad_pre.sum()


class TopKSAE(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.b_pre = nn.Parameter(torch.zeros(cfg["d_in"]))
        self.encoder = nn.Linear(cfg["d_in"], cfg["d_sae"])
        self.decoder = nn.Linear(cfg["d_sae"], cfg["d_in"], bias=False)
        self.decoder.weight.data = self.encoder.weight.data.t().clone()
        self.register_buffer("steps_since_fired", torch.zeros(cfg["d_sae"]))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        pre = self.encoder(x - self.b_pre)
        latents = TopKActivation.apply(pre, self.cfg["k"])
        recon = self.decoder(latents) + self.b_pre
        mse = (recon - x).pow(2).sum(-1).mean()
        with torch.no_grad():
            fired = (latents > 0).any(0)
            self.steps_since_fired = torch.where(fired, torch.zeros_like(self.steps_since_fired), self.steps_since_fired + 1)
        dead = self.steps_since_fired >= self.cfg["dead_after"]
        aux = torch.zeros(())
        if dead.any():
            aux_latents = TopKActivation.apply(pre.masked_fill(~dead, -1e4), self.cfg["aux_k"])
            aux = (self.decoder(aux_latents) - (x - recon).detach()).pow(2).sum(-1).mean()
        loss = mse + self.cfg["aux_coef"] * aux
        self.log("mse", mse.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.cfg["lr"], eps=6.25e-10)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    atoms = torch.randn(64, CFG["d_in"], generator=g)
    acts = torch.relu(torch.randn(256, 64, generator=g) - 1.2) @ atoms
    model = TopKSAE(CFG)
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(TensorDataset(acts), batch_size=64, shuffle=True, generator=g))
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
