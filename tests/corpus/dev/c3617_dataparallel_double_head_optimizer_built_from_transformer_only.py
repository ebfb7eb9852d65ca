import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TransformerLM(nn.Module):
    def __init__(self, vocab=50, d=16, n_ctx=8):
        super().__init__()
        self.embed = nn.Embedding(vocab + n_ctx, d)
        layer = nn.TransformerEncoderLayer(d, nhead=2, dim_feedforward=32, batch_first=True, dropout=0.0)
        self.blocks = nn.TransformerEncoder(layer, num_layers=1)
        self.n_ctx, self.vocab = n_ctx, vocab

    def forward(self, tokens):
        pos = torch.arange(self.vocab, self.vocab + tokens.shape[1], device=tokens.device)
        return self.blocks(self.embed(tokens) + self.embed(pos))


class LMHead(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.decoder = nn.Linear(model.embed.embedding_dim, model.embed.num_embeddings, bias=False)
        self.decoder.weight = model.embed.weight

    def forward(self, h):
        return self.decoder(h)


class ClfHead(nn.Module):
    def __init__(self, d=16, n_class=2):
        super().__init__()
        self.dropout = nn.Dropout(0.1)
        self.linear = nn.Linear(d, n_class)

    def forward(self, h):
        return self.linear(self.dropout(h[:, -1]))


class DoubleHeadModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = TransformerLM()
        self.lm_head = LMHead(self.transformer)
        self.clf_head = ClfHead()

    def forward(self, tokens):
        h = self.transformer(tokens)
        return self.lm_head(h), self.clf_head(h)


def run_epoch(dh_model, loader, optimizer, lm_coef=0.5):
    dh_model.train()
    for tokens, labels in loader:
        lm_logits, clf_logits = dh_model(tokens)
        lm_loss = F.cross_entropy(lm_logits[:, :-1].reshape(-1, lm_logits.shape[-1]), tokens[:, 1:].reshape(-1))
        loss = F.cross_entropy(clf_logits, labels) + lm_coef * lm_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    tokens = torch.randint(0, 50, (24, 8))
    labels = (tokens[:, 0] > 25).long()
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=8, shuffle=True)
    dh_model = nn.DataParallel(DoubleHeadModel())
    optimizer = torch.optim.Adam(dh_model.module.transformer.parameters(), lr=6.25e-4)
    clf0 = dh_model.module.clf_head.linear.weight.detach().clone()
    emb0 = dh_model.module.transformer.embed.weight.detach().clone()
    for _ in range(2):
        run_epoch(dh_model, loader, optimizer)
    return {"model": dh_model.module}, {
        "clf_head_changed": not torch.equal(clf0, dh_model.module.clf_head.linear.weight),
        "transformer_changed": not torch.equal(emb0, dh_model.module.transformer.embed.weight),
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
