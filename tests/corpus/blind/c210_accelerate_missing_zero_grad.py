import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class SentimentRegressor(nn.Module):
    def __init__(self, vocab=200, dim=24):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.hidden = nn.Sequential(nn.Linear(dim, dim), nn.Tanh())
        self.head = nn.Linear(dim, 1)

    def forward(self, token_ids):
        return self.head(self.hidden(self.embed(token_ids))).squeeze(-1)


def training_function(model, train_dataloader, optimizer, lr_scheduler, accelerator, num_epochs=2):
    model.train()
    for epoch in range(num_epochs):
        for token_ids, scores in train_dataloader:
            preds = model(token_ids)
            loss = F.smooth_l1_loss(preds, scores)
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
    return loss.item()


def last_batch_grad_ratio(model, token_ids, scores):
    """How large is the stored .grad compared to the gradient of one batch alone?"""
    probe = copy.deepcopy(model)
    probe.zero_grad()
    F.smooth_l1_loss(probe(token_ids), scores).backward()
    return (model.head.weight.grad.norm() / probe.head.weight.grad.norm()).item()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    token_ids, scores = torch.randint(0, 200, (64, 12)), torch.rand(64) * 4 + 1
    train_dataloader = DataLoader(TensorDataset(token_ids, scores), batch_size=16, shuffle=False)
    model = SentimentRegressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    lr_scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=8)
    model, optimizer, train_dataloader, lr_scheduler = accelerator.prepare(model, optimizer, train_dataloader, lr_scheduler)
    training_function(model, train_dataloader, optimizer, lr_scheduler, accelerator)
    ratio = last_batch_grad_ratio(model, token_ids[-16:], scores[-16:])
    return {"model": model}, {"stored_grad_is_accumulated": ratio > 2.0}

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
