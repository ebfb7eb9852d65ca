import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Block(nn.Module):
    def __init__(self, dim, heads=4):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.ff(self.norm2(x))


class MemoryTransformer(nn.Module):
    def __init__(self, vocab=50, dim=32, depth=2, num_memory_tokens=4):
        super().__init__()
        self.token_emb = nn.Embedding(vocab, dim)
        self.memory_tokens = nn.Parameter(torch.randn(num_memory_tokens, dim) * 0.02)
        self.layers = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.to_logits = nn.Linear(dim, vocab)
        self.num_mem = num_memory_tokens

    def forward(self, ids):
        x = self.token_emb(ids)
        mem = self.memory_tokens.unsqueeze(0).expand(x.size(0), -1, -1)
        x = torch.cat([mem, x], dim=1)
        for layer in self.layers:
            x = layer(x)
        return self.to_logits(self.norm(x[:, self.num_mem:]))


def create_param_groups(model, weight_decay):
    decay, no_decay = [], []
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            if isinstance(module, (nn.Linear, nn.Conv1d)) and param_name == "weight":
                decay.append(param)
            elif isinstance(module, (nn.LayerNorm, nn.Embedding, nn.MultiheadAttention)) or param_name.endswith("bias"):
                no_decay.append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class LitLM(pl.LightningModule):
    def __init__(self, lr=3e-3, weight_decay=0.1):
        super().__init__()
        self.net = MemoryTransformer()
        self.lr, self.weight_decay = lr, weight_decay

    def training_step(self, batch, batch_idx):
        (ids,) = batch
        logits = self.net(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        self.log("loss", loss.detach())
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(create_param_groups(self.net, self.weight_decay), lr=self.lr, betas=(0.9, 0.95))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4)), "interval": "step"}}


def main():
    pl.seed_everything(0)
    loader = DataLoader(TensorDataset(torch.randint(0, 50, (16, 9))), batch_size=4, shuffle=True)
    model = LitLM()
    mem0 = model.net.memory_tokens.detach().clone()
    out0 = model.net.to_logits.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"memory_tokens_changed": not torch.equal(mem0, model.net.memory_tokens),
             "to_logits_changed": not torch.equal(out0, model.net.to_logits.weight)})

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
