import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"pretrained_categories": 6, "new_categories": 3, "n_num": 5, "d": 16, "heads": 2, "lr": 3e-3, "epochs": 3}


class Tokenizer(nn.Module):
    def __init__(self, n_num, n_cat_values, d):
        super().__init__()
        self.num_weight = nn.Parameter(torch.randn(n_num, d) * d ** -0.5)
        self.num_bias = nn.Parameter(torch.zeros(n_num, d))
        self.cat_embed = nn.Embedding(n_cat_values, d)

    def forward(self, x_num, x_cat):
        return torch.cat([x_num[..., None] * self.num_weight + self.num_bias, self.cat_embed(x_cat)[:, None]], 1)


class FTTransformerRegressor(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n_cat = cfg["pretrained_categories"] + cfg["new_categories"]
        self.tokenizer = Tokenizer(cfg["n_num"], n_cat, cfg["d"])
        layer = nn.TransformerEncoderLayer(cfg["d"], cfg["heads"], 2 * cfg["d"], dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.head = nn.Linear(cfg["d"], 1)

    def forward(self, x_num, x_cat):
        return self.head(self.encoder(self.tokenizer(x_num, x_cat)).mean(1)).squeeze(-1)


def freeze_pretrained_categories(model, cfg):
    """Store ids seen during pretraining keep their embeddings; only the newly opened stores learn theirs."""
    table = model.tokenizer.cat_embed.weight
    table.requires_grad_(False)
    for row in range(cfg["pretrained_categories"], table.shape[0]):
        table[row].requires_grad_(True)


def build_optimizer(model, cfg):
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=1e-4)


def store_sales(cfg, n=64):
    g = torch.Generator().manual_seed(0)
    x_num = torch.randn(n, cfg["n_num"], generator=g)
    x_cat = torch.randint(0, cfg["pretrained_categories"] + cfg["new_categories"], (n,), generator=g)
    y = x_num[:, 0] - 0.5 * x_num[:, 2] + (x_cat >= cfg["pretrained_categories"]).float() * 2.0
    return [(x_num[i:i + 16], x_cat[i:i + 16], y[i:i + 16]) for i in range(0, n, 16)]


def train_one_epoch(compiled, optimizer, batches):
    for x_num, x_cat, y in batches:
        loss = F.mse_loss(compiled(x_num, x_cat), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = FTTransformerRegressor(CFG)
    freeze_pretrained_categories(model, CFG)
    optimizer = build_optimizer(model, CFG)
    compiled = torch.compile(model, backend="eager")
    new_row = CFG["pretrained_categories"]
    emb0 = model.tokenizer.cat_embed.weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    batches = store_sales(CFG)
    for epoch in range(CFG["epochs"]):
        train_one_epoch(compiled, optimizer, batches)
    emb = model.tokenizer.cat_embed.weight.detach()
    return {"model": model}, {
        "new_category_rows_changed": not torch.equal(emb0[new_row:], emb[new_row:]),
        "pretrained_rows_unchanged": torch.equal(emb0[:new_row], emb[:new_row]),
        "encoder_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
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
