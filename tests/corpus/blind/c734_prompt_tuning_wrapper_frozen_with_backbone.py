import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class PretrainedEncoder(nn.Module):
    def __init__(self, vocab=200, dim=32, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        block = nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True, dropout=0.0)
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)

    def forward_embeds(self, embeds):
        return self.blocks(embeds)


class SoftPromptClassifier(nn.Module):
    def __init__(self, backbone, n_prompt=4, n_classes=3):
        super().__init__()
        self.backbone = backbone
        dim = backbone.embed.embedding_dim
        self.prompt = nn.Parameter(torch.randn(n_prompt, dim) * 0.02)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, input_ids):
        tok = self.backbone.embed(input_ids)
        prompt = self.prompt.unsqueeze(0).expand(input_ids.size(0), -1, -1)
        h = self.backbone.forward_embeds(torch.cat([prompt, tok], dim=1))
        return self.head(h[:, : self.prompt.size(0)].mean(1))


def freeze_backbone(model):
    """Prompt tuning: the pretrained weights stay fixed, only prompt + head learn."""
    model.requires_grad_(False)
    model.head.requires_grad_(True)
    return model


def build_optimizer(model, prompt_lr=3e-2, head_lr=1e-2):
    return torch.optim.AdamW([{"params": [model.prompt], "lr": prompt_lr},
                              {"params": model.head.parameters(), "lr": head_lr}], weight_decay=0.0)


def make_loader(n=64, seq=8, vocab=200):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    y = ids[:, 0] % 3
    return DataLoader(TensorDataset(ids, y), batch_size=16, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = freeze_backbone(SoftPromptClassifier(PretrainedEncoder()))
    optimizer = build_optimizer(model)
    prompt_before = model.prompt.detach().clone()
    for ids, y in make_loader():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(ids), y)
        loss.backward()
        optimizer.step()
    return {"model": model}, {"prompt_changed": not torch.equal(prompt_before, model.prompt)}

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
