import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed


class SentimentHead(nn.Module):
    def __init__(self, in_dim=20, hidden=32, n_labels=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.LayerNorm(hidden))
        self.classifier = nn.Linear(hidden, n_labels)

    def forward(self, x):
        return self.classifier(self.encoder(x))


def evaluate(accelerator, model, loader):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            preds = model(x).argmax(dim=-1)
            preds, y = accelerator.gather_for_metrics((preds, y))
            correct += (preds == y).sum().item()
            total += y.numel()
    model.train()
    return correct / total


def train(accelerator, model, optimizer, scheduler, train_loader, val_loader, epochs=2):
    history = []
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for step, (x, y) in enumerate(train_loader):
            with accelerator.accumulate(model):
                loss = F.cross_entropy(model(x), y)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            running += loss.item()
        history.append({"loss": running / len(train_loader), "acc": evaluate(accelerator, model, val_loader)})
    return history


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    x, y = torch.randn(64, 20), torch.randint(0, 2, (64,))
    train_loader = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=8, shuffle=True)
    val_loader = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=8)
    model = SentimentHead()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=6)
    model, optimizer, train_loader, val_loader, scheduler = accelerator.prepare(
        model, optimizer, train_loader, val_loader, scheduler)
    net = accelerator.unwrap_model(model)
    enc_before, cls_before = net.encoder[0].weight.detach().clone(), net.classifier.weight.detach().clone()
    history = train(accelerator, model, optimizer, scheduler, train_loader, val_loader)
    facts = {
        "encoder_changed": not torch.equal(enc_before, net.encoder[0].weight.detach()),
        "classifier_changed": not torch.equal(cls_before, net.classifier.weight.detach()),
        "logged_loss_is_float": isinstance(history[-1]["loss"], float),
    }
    return {"model": accelerator.unwrap_model(model)}, facts

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
