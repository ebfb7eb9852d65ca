import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class HybridEncoder(nn.Module):
    def __init__(self, in_dim=6, dim=16):
        super().__init__()
        self.proj = nn.Linear(in_dim, dim)
        self.mix = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())
        self.enc_score_head = nn.Linear(dim, 1)

    def forward(self, tokens):
        memory = self.proj(tokens)
        memory = memory + self.mix(memory)
        return memory, self.enc_score_head(memory).squeeze(-1)


class QueryDecoder(nn.Module):
    def __init__(self, dim=16, n_classes=3):
        super().__init__()
        self.cross_attn = nn.MultiheadAttention(dim, num_heads=2, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.class_head = nn.Linear(dim, n_classes)

    def forward(self, queries, memory):
        attended, _ = self.cross_attn(queries, memory, memory)
        q = queries + attended
        q = q + self.ffn(q)
        return self.class_head(q)


class DetrLite(pl.LightningModule):
    def __init__(self, num_queries=4, lr=3e-3):
        super().__init__()
        self.automatic_optimization = False
        self.encoder, self.decoder = HybridEncoder(), QueryDecoder()
        self.num_queries, self.lr = num_queries, lr

    def select_queries(self, memory, scores):
        topk = scores.topk(self.num_queries, dim=1).indices
        enc_topk_memory = memory.gather(1, topk[..., None].expand(-1, -1, memory.size(-1)))
        return enc_topk_memory.detach(), topk

    def training_step(self, batch, batch_idx):
        tokens, objectness, query_labels = batch
        opt_enc, opt_dec = self.optimizers()
        memory, scores = self.encoder(tokens)
        content, topk = self.select_queries(memory, scores)
        logits = self.decoder(content, memory)
        loss_dec = F.cross_entropy(logits.flatten(0, 1), query_labels.gather(1, topk).flatten())
        loss_enc = F.binary_cross_entropy_with_logits(scores, objectness)
        loss = loss_dec + loss_enc
        opt_enc.zero_grad()
        opt_dec.zero_grad()
        self.manual_backward(loss)
        self.clip_gradients_(0.1)
        opt_enc.step()
        opt_dec.step()
        self.log("train/loss", loss.detach())

    def clip_gradients_(self, max_norm):
        nn.utils.clip_grad_norm_(self.parameters(), max_norm)

    def configure_optimizers(self):
        return (torch.optim.AdamW(self.encoder.parameters(), lr=self.lr / 2),
                torch.optim.AdamW(self.decoder.parameters(), lr=self.lr))


def main():
    pl.seed_everything(5)
    g = torch.Generator().manual_seed(5)
    tokens = torch.randn(32, 10, 6, generator=g)
    objectness = (tokens[..., 0] > 0.5).float()
    token_labels = tokens[..., 1:4].argmax(dim=-1)
    loader = DataLoader(TensorDataset(tokens, objectness, token_labels), batch_size=8, shuffle=True, generator=g)
    model = DetrLite()
    p0, m0 = model.encoder.proj.weight.detach().clone(), model.encoder.mix[1].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"encoder_proj_changed": not torch.equal(p0, model.encoder.proj.weight),
             "encoder_mix_changed": not torch.equal(m0, model.encoder.mix[1].weight)})

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
