import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FrozenEncoder(nn.Module):
    def __init__(self, vocab=60, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)

    def forward(self, embeds):
        return self.layer(embeds)


class SoftPromptClassifier(nn.Module):
    """Prompt tuning: only the soft prompt and the classification head are trained."""

    def __init__(self, encoder, n_prompt=4, dim=16, n_classes=3, prompt_noise=0.05):
        super().__init__()
        self.encoder = encoder.requires_grad_(False)
        self.soft_prompt = nn.Parameter(torch.randn(n_prompt, dim) * 0.1)
        self.head = nn.Linear(dim, n_classes)
        self.prompt_noise = prompt_noise

    def prompt_embeddings(self, batch_size):
        prompt = self.soft_prompt
        if self.training and self.prompt_noise > 0:
            prompt += self.prompt_noise * torch.randn_like(prompt)
        return prompt.unsqueeze(0).expand(batch_size, -1, -1)

    def forward(self, tokens):
        token_embeds = self.encoder.embed(tokens)
        h = self.encoder(torch.cat([self.prompt_embeddings(tokens.size(0)), token_embeds], dim=1))
        return self.head(h[:, 0])


def main():
    set_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(61)
    tokens = torch.randint(0, 60, (32, 10), generator=g)
    labels = tokens[:, :3].sum(1) % 3
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=8, shuffle=True, generator=g)
    model = SoftPromptClassifier(FrozenEncoder())
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.train()
    for tokens, labels in loader:
        optimizer.zero_grad()
        accelerator.backward(F.cross_entropy(model(tokens), labels))
        optimizer.step()
    return {"model": model}

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
