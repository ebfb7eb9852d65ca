import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyCausalLM(nn.Module):
    def __init__(self, vocab=40, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.block = nn.TransformerEncoderLayer(dim, nhead=2, dim_feedforward=32, batch_first=True, dropout=0.0)
        self.norm = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)

    def forward(self, ids):
        n = ids.size(1)
        causal = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        return self.lm_head(self.norm(self.block(self.embed(ids), src_mask=causal)))


@torch.inference_mode()
def add_new_tokens(lm, n_new):
    """Grow the vocabulary; new rows start at the mean of the existing embeddings (mean resizing)."""
    old_emb, old_head = lm.embed.weight, lm.lm_head.weight
    emb_rows = old_emb.mean(dim=0, keepdim=True).expand(n_new, -1)
    head_rows = old_head.mean(dim=0, keepdim=True).expand(n_new, -1)
    lm.embed = nn.Embedding.from_pretrained(torch.cat([old_emb, emb_rows]), freeze=False)
    lm.lm_head = nn.Linear(old_head.size(1), old_head.size(0) + n_new, bias=False)
    lm.lm_head.weight = nn.Parameter(torch.cat([old_head, head_rows]))


class ChatFineTuner(pl.LightningModule):
    def __init__(self, lr=3e-4):
        super().__init__()
        self.lm = TinyCausalLM()
        self.lr = lr

    def training_step(self, batch, batch_idx):
        (ids,) = batch
        logits = self.lm(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        self.log("train/ppl", loss.exp())
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.1)


def main():
    pl.seed_everything(0)
    model = ChatFineTuner()
    add_new_tokens(model.lm, 4)  # <|user|>, <|assistant|>, <|system|>, <|end|>
    ids = torch.randint(0, 44, (16, 9))
    loader = DataLoader(TensorDataset(ids), batch_size=4, shuffle=True)
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
