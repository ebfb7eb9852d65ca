import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def elu_feature_map(x):
    return F.elu(x) + 1


class RecurrentLinearAttention(nn.Module):
    """Causal linear attention evaluated one step at a time with running sums S = sum k v^T and Z = sum k."""

    def __init__(self, d_model=16, eps=1e-6):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = (nn.Linear(d_model, d_model) for _ in range(3))
        self.out_proj = nn.Linear(d_model, d_model)
        self.eps = eps

    def step(self, x_t, state):
        q, k, v = elu_feature_map(self.q_proj(x_t)), elu_feature_map(self.k_proj(x_t)), self.v_proj(x_t)
        if state is None:
            b, d = k.shape
            state = (k.new_zeros(b, d, v.size(-1)), k.new_zeros(b, d))
        Si, Zi = state
        Si += torch.einsum("bd,bm->bdm", k, v)
        Zi += k
        num = torch.einsum("bd,bdm->bm", q, Si)
        den = torch.einsum("bd,bd->b", q, Zi).unsqueeze(-1) + self.eps
        return self.out_proj(num / den), (Si, Zi)


class SequenceRegressor(pl.LightningModule):
    def __init__(self, n_in=4, d_model=16, lr=3e-3):
        super().__init__()
        self.embed = nn.Linear(n_in, d_model)
        self.attn = RecurrentLinearAttention(d_model)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 1)
        self.lr = lr

    def forward(self, seq):
        state, outputs = None, []
        for t in range(seq.size(1)):
            x_t = self.embed(seq[:, t])
            y_t, state = self.attn.step(x_t, state)
            outputs.append(self.head(self.norm(x_t + y_t)))
        return torch.cat(outputs, dim=1)

    def training_step(self, batch, batch_idx):
        seq, target = batch
        loss = F.mse_loss(self(seq), target)
        self.log("train/mse", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(3)
    g = torch.Generator().manual_seed(3)
    seq = torch.randn(32, 6, 4, generator=g)
    target = seq[..., 0].cumsum(dim=1) / 3
    loader = DataLoader(TensorDataset(seq, target), batch_size=8, shuffle=True, generator=g)
    model = SequenceRegressor()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
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
