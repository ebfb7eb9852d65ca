import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

CFG = {"n_num": 6, "cat_cardinalities": (4, 7), "d_token": 16, "heads": 2, "layers": 2, "lr": 1e-3, "wd": 1e-5}


class FeatureTokenizer(nn.Module):
    """Numerical features: x_j * W_j + b_j; categorical features: embedding lookups (FT-Transformer)."""

    def __init__(self, n_num, cards, d):
        super().__init__()
        self.num_weight = nn.Parameter(torch.randn(n_num, d) * d ** -0.5)
        self.num_bias = nn.Parameter(torch.zeros(n_num, d))
        offsets = torch.tensor((0,) + tuple(cards[:-1])).cumsum(0)
        self.register_buffer("cat_offsets", offsets)
        self.cat_embed = nn.Embedding(sum(cards), d)

    def forward(self, x_num, x_cat):
        num_tokens = x_num[..., None] * self.num_weight + self.num_bias
        cat_tokens = self.cat_embed(x_cat + self.cat_offsets)
        return torch.cat([num_tokens, cat_tokens], dim=1)


class CLSToken(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d) * d ** -0.5)

    def expand(self, batch_size):
        return self.weight.data.view(1, 1, -1).expand(batch_size, 1, -1)

    def forward(self, tokens):
        return torch.cat([tokens, self.expand(tokens.shape[0])], dim=1)


class FTTransformer(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tokenizer = FeatureTokenizer(cfg["n_num"], cfg["cat_cardinalities"], cfg["d_token"])
        self.cls = CLSToken(cfg["d_token"])
        layer = nn.TransformerEncoderLayer(cfg["d_token"], cfg["heads"], 4 * cfg["d_token"], dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.backbone = nn.TransformerEncoder(layer, cfg["layers"])
        self.head = nn.Sequential(nn.LayerNorm(cfg["d_token"]), nn.ReLU(), nn.Linear(cfg["d_token"], 1))

    def forward(self, x_num, x_cat):
        tokens = self.cls(self.tokenizer(x_num, x_cat))
        return self.head(self.backbone(tokens)[:, -1]).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x_num, x_cat, y = batch
        loss = F.binary_cross_entropy_with_logits(self(x_num, x_cat), y)
        self.log("train/bce", loss.item())
        return {"loss": loss}

    def configure_optimizers(self):
        no_decay = [p for n, p in self.named_parameters() if "tokenizer" in n or "norm" in n or n.endswith("bias")]
        decay = [p for n, p in self.named_parameters() if not any(p is q for q in no_decay)]
        return torch.optim.AdamW([{"params": decay, "weight_decay": self.cfg["wd"]},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=self.cfg["lr"])


def adult_like(cfg, n=48):
    g = torch.Generator().manual_seed(0)
    x_num = torch.randn(n, cfg["n_num"], generator=g)
    x_cat = torch.stack([torch.randint(0, c, (n,), generator=g) for c in cfg["cat_cardinalities"]], 1)
    y = ((x_num[:, 0] + (x_cat[:, 1] > 3).float()) > 0.5).float()
    return DataLoader(TensorDataset(x_num, x_cat, y), batch_size=16, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = FTTransformer(CFG)
    cls0 = model.cls.weight.detach().clone()
    tok0 = model.tokenizer.num_weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, adult_like(CFG))
    return {"model": model}, {
        "cls_changed": not torch.equal(cls0, model.cls.weight),
        "tokenizer_changed": not torch.equal(tok0, model.tokenizer.num_weight),
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
