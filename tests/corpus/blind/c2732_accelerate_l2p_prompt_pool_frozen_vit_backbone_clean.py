import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class TinyViT(nn.Module):
    def __init__(self, patch_dim=6, dim=12):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, 2, 24, batch_first=True, dropout=0.0), 1)
        self.norm = nn.LayerNorm(dim)

    def embed(self, patches):
        x = self.patch_embed(patches)
        return torch.cat([self.cls_token.expand(len(x), -1, -1), x], 1)

    def encode(self, tokens):
        return self.norm(self.blocks(tokens))


class PromptPool(nn.Module):
    def __init__(self, pool_size=5, prompt_len=2, dim=12, top_k=2):
        super().__init__()
        self.keys = nn.Parameter(torch.randn(pool_size, dim) * 0.1)
        self.prompts = nn.Parameter(torch.randn(pool_size, prompt_len, dim) * 0.1)
        self.top_k = top_k

    def forward(self, query):
        sim = F.normalize(query, dim=-1) @ F.normalize(self.keys, dim=-1).t()
        idx = sim.topk(self.top_k, dim=-1).indices
        chosen = self.prompts[idx].flatten(1, 2)
        pull = (1 - torch.gather(sim, 1, idx)).mean()
        return chosen, pull


class L2P(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.vit = TinyViT()
        self.pool = PromptPool()
        self.head = nn.Linear(12, n_classes)
        self.vit.requires_grad_(False)

    def forward(self, patches):
        tokens = self.vit.embed(patches)
        with torch.no_grad():
            query = self.vit.encode(tokens)[:, 0]
        prompts, pull = self.pool(query)
        out = self.vit.encode(torch.cat([prompts, tokens], 1))
        return self.head(out[:, :prompts.size(1)].mean(1)), pull


def main():
    set_seed(0)
    accelerator = Accelerator()
    patches = torch.randn(32, 4, 6)
    labels = (patches[:, :, 0].mean(1) > 0).long() * 2 + (patches[:, :, 1].mean(1) > 0).long()
    model = L2P()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-2)
    loader = DataLoader(TensorDataset(patches, labels), batch_size=8, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    head_before = model.head.weight.detach().clone()
    for x, y in loader:
        logits, pull = model(x)
        loss = F.cross_entropy(logits, y) + 0.5 * pull
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    facts = {"head_changed": not torch.equal(head_before, model.head.weight)}
    return {"pool": model.pool, "head": model.head}, facts

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
