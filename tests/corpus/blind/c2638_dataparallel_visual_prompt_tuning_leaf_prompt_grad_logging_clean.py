import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PatchEncoder(nn.Module):
    def __init__(self, dim=16, patch=4):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
                                    for _ in range(2))

    def embed(self, images):
        return self.proj(images).flatten(2).transpose(1, 2)


class VisualPromptTuning(nn.Module):
    def __init__(self, encoder, n_prompts=4, dim=16, n_classes=3):
        super().__init__()
        self.encoder = encoder
        for p in self.encoder.parameters():
            p.requires_grad = False
        self.prompt = nn.Parameter(torch.zeros(1, n_prompts, dim))
        val = math.sqrt(6.0 / float(3 * 4 * 4 + dim))
        nn.init.uniform_(self.prompt, -val, val)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, images):
        x = self.encoder.embed(images)
        x = torch.cat([self.prompt.expand(x.shape[0], -1, -1), x], dim=1)
        for layer in self.encoder.layers:
            x = layer(x)
        return self.head(x[:, : self.prompt.shape[1]].mean(1))


def train(model, loader, optimizer, scheduler, device, log):
    model.train()
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        log.append({"loss": loss.item(), "prompt_grad_norm": model.module.prompt.grad.norm().item()})
        optimizer.step()
        scheduler.step()


def main():
    torch.manual_seed(0)
    device = torch.device("cpu")
    model = VisualPromptTuning(PatchEncoder()).to(device)
    model = nn.DataParallel(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.5, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.rand(8, 3, 8, 8, generator=g), torch.randint(0, 3, (8,), generator=g))
    log = []
    before = model.module.prompt.detach().clone()
    train(model, DataLoader(ds, batch_size=4), optimizer, scheduler, device, log)
    facts = {"prompt_changed": not torch.equal(before, model.module.prompt),
             "prompt_is_leaf": model.module.prompt.is_leaf,
             "logged_grad_positive": all(r["prompt_grad_norm"] > 0 for r in log)}
    return {"prompt": model.module.prompt, "head": model.module.head}, facts

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
