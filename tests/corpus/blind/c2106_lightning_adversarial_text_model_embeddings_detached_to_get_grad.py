import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class CNNTextEncoder(nn.Module):
    def __init__(self, dim=16, n_cls=3):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, 3, padding=1)
        self.out = nn.Linear(dim, n_cls)

    def forward(self, embeds):
        h = F.relu(self.conv(embeds.transpose(1, 2)))
        return self.out(h.max(dim=2).values)


class AdversarialTextClassifier(pl.LightningModule):
    def __init__(self, vocab=80, dim=16, eps=0.3, lr=5e-3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.encoder = CNNTextEncoder(dim)
        self.eps, self.lr = eps, lr

    def embed_as_leaf(self, ids):
        embeds = self.embedding(ids).detach()
        return embeds.requires_grad_()

    def training_step(self, batch, batch_idx):
        ids, y = batch
        embeds = self.embed_as_leaf(ids)
        clean_loss = F.cross_entropy(self.encoder(embeds), y)
        grad, = torch.autograd.grad(clean_loss, embeds, retain_graph=True)
        delta = self.eps * grad / (grad.norm(dim=-1, keepdim=True) + 1e-8)
        adv_loss = F.cross_entropy(self.encoder(embeds + delta.detach()), y)
        self.log_dict({"clean": clean_loss.item(), "adv": adv_loss.item()})
        return clean_loss + adv_loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    pl.seed_everything(0)
    ids, y = torch.randint(0, 80, (24, 9)), torch.randint(0, 3, (24,))
    model = AdversarialTextClassifier()
    emb0 = model.embedding.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(
        model, DataLoader(TensorDataset(ids, y), batch_size=8, shuffle=True))
    return ({"model": model}, {"embedding_changed": not torch.equal(emb0, model.embedding.weight)})

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
