import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TinyEncoder(nn.Module):
    """Stands in for a pretrained sentence encoder: embeddings + two transformer layers + a pooler."""

    def __init__(self, vocab=50, d=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d, 2, dim_feedforward=32, dropout=0.0,
                                                                batch_first=True) for _ in range(2)])
        self.pooler = nn.Linear(d, d)

    def forward(self, ids):
        h = self.embed(ids)
        for layer in self.layers:
            h = layer(h)
        return torch.tanh(self.pooler(h.mean(1)))


class LoRALinear(nn.Module):
    def __init__(self, base, r=4, alpha=8):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(0.01 * torch.randn(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scaling


def add_lora(encoder, r=4):
    for layer in encoder.layers:
        layer.linear1 = LoRALinear(layer.linear1, r)
        layer.linear2 = LoRALinear(layer.linear2, r)


class Classifier(nn.Module):
    def __init__(self, encoder, n_labels=2):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(16, n_labels)

    def forward(self, ids):
        return self.head(self.encoder(ids))


def make_loader(n=48, length=8):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(2, 50, (n, length), generator=g)
    labels = torch.arange(n) % 2
    ids[labels == 1, 0] = 1
    return DataLoader(TensorDataset(ids, labels), batch_size=8, shuffle=True)


def main():
    set_seed(0)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    encoder = TinyEncoder()
    encoder.requires_grad_(False)
    add_lora(encoder)
    model = Classifier(encoder)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=5e-3)
    model, optimizer, loader = accelerator.prepare(model, optimizer, make_loader())
    base0 = encoder.layers[0].linear1.base.weight.detach().clone()
    lora0 = encoder.layers[0].linear1.lora_B.detach().clone()
    head0 = model.head.weight.detach().clone()
    for epoch in range(2):
        for ids, labels in loader:
            with accelerator.accumulate(model):
                loss = F.cross_entropy(model(ids), labels)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
    return {"model": model}, {
        "base_weights_unchanged": torch.equal(base0, encoder.layers[0].linear1.base.weight),
        "lora_changed": not torch.equal(lora0, encoder.layers[0].linear1.lora_B),
        "head_changed": not torch.equal(head0, model.head.weight),
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
