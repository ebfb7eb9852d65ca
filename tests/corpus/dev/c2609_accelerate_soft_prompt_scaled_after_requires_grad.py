import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FrozenEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
                                    for _ in range(layers))

    def forward(self, inputs_embeds):
        h = inputs_embeds
        for layer in self.layers:
            h = layer(h)
        return h


class PromptTuningClassifier(nn.Module):
    def __init__(self, encoder, n_prompt=4, dim=16, num_classes=3):
        super().__init__()
        self.encoder = encoder
        self.encoder.requires_grad_(False)
        self.soft_prompt = torch.randn(n_prompt, dim, requires_grad=True) * 0.02
        self.head = nn.Linear(dim, num_classes)

    def forward(self, input_ids):
        tok = self.encoder.embed(input_ids)
        prompt = self.soft_prompt.unsqueeze(0).expand(tok.shape[0], -1, -1)
        h = self.encoder(torch.cat([prompt, tok], dim=1))
        return self.head(h[:, : self.soft_prompt.shape[0]].mean(1))

    def trainable_parameters(self):
        return [self.soft_prompt] + list(self.head.parameters())


def train(accelerator, model, optimizer, loader, epochs=1):
    model.train()
    for _ in range(epochs):
        for ids, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(ids), labels)
            accelerator.backward(loss)
            optimizer.step()


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = PromptTuningClassifier(FrozenEncoder())
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=3e-2)
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randint(0, 50, (12, 6), generator=g), torch.randint(0, 3, (12,), generator=g))
    model, optimizer, loader = accelerator.prepare(model, optimizer, DataLoader(ds, batch_size=4))
    train(accelerator, model, optimizer, loader)
    return {"soft_prompt": model.soft_prompt, "head": model.head}

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
