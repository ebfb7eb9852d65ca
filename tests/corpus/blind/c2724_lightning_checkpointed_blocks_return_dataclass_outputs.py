from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.checkpoint import checkpoint
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class BlockOutput:
    hidden: torch.Tensor
    attn_entropy: torch.Tensor


class Block(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, -1)
        att = torch.softmax(q @ k.transpose(1, 2) / 4.0, -1)
        h = x + att @ v
        entropy = -(att * att.clamp_min(1e-9).log()).sum(-1).mean()
        return BlockOutput(hidden=h + self.ff(h), attn_entropy=entropy)


class SequenceRegressor(pl.LightningModule):
    def __init__(self, vocab=30, dim=16, depth=2, lr=3e-3, gradient_checkpointing=True):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim) for _ in range(depth))
        self.head = nn.Linear(dim, 1)
        self.lr, self.gradient_checkpointing = lr, gradient_checkpointing

    def run_block(self, block, h):
        if self.gradient_checkpointing and self.training:
            return checkpoint(block, h, use_reentrant=True)
        return block(h)

    def forward(self, tokens):
        h = self.embed(tokens)
        for block in self.blocks:
            h = self.run_block(block, h).hidden
        return self.head(h.mean(1)).squeeze(-1)

    def training_step(self, batch, batch_idx):
        tokens, y = batch
        loss = F.mse_loss(self(tokens), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    tokens = torch.randint(0, 30, (16, 6))
    y = (tokens < 10).float().mean(1)
    model = SequenceRegressor()
    before = model.blocks[0].qkv.weight.detach().clone()
    pl.Trainer(max_epochs=1, logger=False).fit(model, DataLoader(TensorDataset(tokens, y), batch_size=4))
    facts = {"first_block_changed": not torch.equal(before, model.blocks[0].qkv.weight)}
    return {"embed": model.embed, "blocks": model.blocks, "head": model.head}, facts

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
