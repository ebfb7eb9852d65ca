import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class IntentEncoder(nn.Module):
    def __init__(self, vocab=60, dim=24, heads=4, n_intents=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=48, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.head = nn.Linear(dim, n_intents)

    def forward(self, input_ids):
        h = self.encoder(self.embed(input_ids), src_key_padding_mask=input_ids.eq(0))
        return self.head(h[:, 0])


def training_step(accelerator, model, batch, optimizer, scheduler):
    input_ids, labels = batch
    loss = F.cross_entropy(model(input_ids), labels)
    accelerator.backward(loss)
    optimizer.zero_grad()
    optimizer.step()
    scheduler.step()
    return loss.item()


def make_loader():
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(1, 60, (48, 8), generator=g)
    ids[:, 6:] = 0
    return DataLoader(TensorDataset(ids, ids[:, 1] % 6), batch_size=12, shuffle=True, generator=g)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = IntentEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=8)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, make_loader(), scheduler)
    head0 = model.head.weight.detach().clone()
    emb0 = model.embed.weight.detach().clone()
    model.train()
    for epoch in range(2):
        for batch in loader:
            training_step(accelerator, model, batch, optimizer, scheduler)
    facts = {"head_changed": not torch.equal(head0, model.head.weight),
             "embedding_changed": not torch.equal(emb0, model.embed.weight)}
    return {"model": model}, facts

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
