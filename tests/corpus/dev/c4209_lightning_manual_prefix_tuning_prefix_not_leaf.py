import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class FrozenDecoderLM(nn.Module):
    """A small pretrained causal LM whose attention layers accept extra key/value prefixes."""

    def __init__(self, vocab, d_model, n_layers):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.layers = nn.ModuleList([nn.MultiheadAttention(d_model, 2, batch_first=True) for _ in range(n_layers)])
        self.norms = nn.ModuleList([nn.LayerNorm(d_model) for _ in range(n_layers)])
        self.lm_head = nn.Linear(d_model, vocab)

    def forward(self, input_ids, prefix_kv):
        x = self.embed(input_ids)
        t = x.size(1)
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        for i, (attn, norm) in enumerate(zip(self.layers, self.norms)):
            pk = prefix_kv[i].unsqueeze(0).expand(x.size(0), -1, -1)
            kv = torch.cat([pk, x], 1)
            mask = torch.cat([torch.zeros(t, pk.size(1), dtype=torch.bool), causal], 1)
            out, _ = attn(x, kv, kv, attn_mask=mask, need_weights=False)
            x = norm(x + out)
        return self.lm_head(x)


def init_prefix(n_layers, prefix_len, d_model, std):
    return torch.randn(n_layers, prefix_len, d_model, requires_grad=True) * std


class PrefixTuner(pl.LightningModule):
    def __init__(self, lm, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.lm = lm.requires_grad_(False)
        self.prefix = init_prefix(cfg["n_layers"], cfg["prefix_len"], cfg["d_model"], cfg["init_std"])
        self.reparam = nn.Sequential(nn.Linear(cfg["d_model"], cfg["d_model"]), nn.Tanh())
        self.cfg = cfg

    def prefix_kv(self):
        return self.prefix + self.reparam(self.prefix)

    def training_step(self, batch, batch_idx):
        (ids,) = batch
        opt = self.optimizers()
        logits = self.lm(ids[:, :-1], self.prefix_kv())
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log("train/nll", loss.item())

    def configure_optimizers(self):
        return torch.optim.AdamW([
            {"params": [self.prefix], "lr": self.cfg["prefix_lr"]},
            {"params": self.reparam.parameters(), "lr": self.cfg["mlp_lr"]},
        ], weight_decay=0.0)


def table_to_text_loader(n=16, seq=7, vocab=30):
    g = torch.Generator().manual_seed(0)
    starts = torch.randint(0, vocab, (n, 1), generator=g)
    ids = (starts + torch.arange(seq)) % vocab
    return DataLoader(TensorDataset(ids), batch_size=8)


def main():
    pl.seed_everything(0)
    cfg = {"n_layers": 2, "prefix_len": 3, "d_model": 16, "init_std": 0.02, "prefix_lr": 5e-3, "mlp_lr": 1e-3}
    lm = FrozenDecoderLM(30, cfg["d_model"], cfg["n_layers"])
    tuner = PrefixTuner(lm, cfg)
    prefix0 = tuner.prefix.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(tuner, table_to_text_loader())
    return {"tuner": tuner, "prefix": tuner.prefix}, {"prefix_changed": not torch.equal(prefix0, tuner.prefix)}

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
