import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

CFG = {"vocab": 64, "d_model": 32, "d_sae": 96, "layer": 1, "seq": 16, "l0_coef": 1e-3,
       "init_threshold": 0.05, "lr": 2e-3, "epochs": 2}


class TinyLM(nn.Module):
    """Frozen language model whose residual stream we decompose."""

    def __init__(self, vocab, d):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(d, 4, 2 * d, dropout=0.0, batch_first=True)
                                    for _ in range(2))

    def forward(self, ids, stop_at=None):
        h = self.embed(ids)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i == stop_at:
                return h
        return h


class JumpReLUSAE(nn.Module):
    def __init__(self, d_in, d_sae, init_threshold):
        super().__init__()
        self.W_enc = nn.Parameter(torch.randn(d_in, d_sae) / d_in ** 0.5)
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.W_dec = nn.Parameter(self.W_enc.detach().t().clone())
        self.b_dec = nn.Parameter(torch.zeros(d_in))
        self.threshold = nn.Parameter(torch.full((d_sae,), init_threshold))

    def encode(self, x):
        pre = (x - self.b_dec) @ self.W_enc + self.b_enc
        active = (pre > self.threshold).to(pre.dtype)
        return pre.relu() * active, active

    def forward(self, x):
        feats, active = self.encode(x)
        return feats @ self.W_dec + self.b_dec, active


@torch.no_grad()
def collect_activations(lm, loader, layer):
    return torch.cat([lm(ids, stop_at=layer).reshape(-1, lm.embed.embedding_dim) for (ids,) in loader])


def train_sae(sae, acts, cfg):
    step = torch.compile(sae, backend="eager")
    optimizer = torch.optim.Adam(sae.parameters(), lr=cfg["lr"])
    loader = DataLoader(TensorDataset(acts), batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0))
    for _ in range(cfg["epochs"]):
        for (x,) in loader:
            recon, active = step(x)
            mse = (recon - x).pow(2).sum(-1).mean()
            l0 = active.sum(-1).mean()
            loss = mse + cfg["l0_coef"] * l0
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    lm = TinyLM(CFG["vocab"], CFG["d_model"]).eval().requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, CFG["vocab"], (32, CFG["seq"]), generator=g)
    acts = collect_activations(lm, DataLoader(TensorDataset(tokens), batch_size=8), CFG["layer"])
    sae = JumpReLUSAE(CFG["d_model"], CFG["d_sae"], CFG["init_threshold"])
    th0 = sae.threshold.detach().clone()
    enc0 = sae.W_enc.detach().clone()
    train_sae(sae, acts, CFG)
    return {"sae": sae}, {
        "threshold_changed": not torch.equal(th0, sae.threshold),
        "encoder_changed": not torch.equal(enc0, sae.W_enc),
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
