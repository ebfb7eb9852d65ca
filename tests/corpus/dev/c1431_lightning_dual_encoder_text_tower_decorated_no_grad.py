import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class DualEncoderRetriever(pl.LightningModule):
    def __init__(self, vocab=60, dim=16, temperature=0.1):
        super().__init__()
        self.query_embed = nn.EmbeddingBag(vocab, dim)
        self.query_proj = nn.Linear(dim, dim)
        self.doc_embed = nn.EmbeddingBag(vocab, dim)
        self.doc_proj = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, dim))
        self.temperature = temperature

    def encode_queries(self, q_tokens):
        return F.normalize(self.query_proj(self.query_embed(q_tokens)), dim=-1)

    @torch.no_grad()
    def encode_documents(self, d_tokens):
        """Also used offline to (re)build the document index."""
        return F.normalize(self.doc_proj(self.doc_embed(d_tokens)), dim=-1)

    def training_step(self, batch, batch_idx):
        q_tokens, d_tokens = batch
        scores = self.encode_queries(q_tokens) @ self.encode_documents(d_tokens).t() / self.temperature
        loss = F.cross_entropy(scores, torch.arange(scores.size(0)))
        self.log("contrastive_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main():
    pl.seed_everything(0)
    g = torch.Generator().manual_seed(32)
    docs = torch.randint(0, 60, (40, 12), generator=g)
    queries = docs[:, :4].clone()
    loader = DataLoader(TensorDataset(queries, docs), batch_size=8, shuffle=True, generator=g)
    model = DualEncoderRetriever()
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
