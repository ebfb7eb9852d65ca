import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=100, dim=32, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        layer = nn.TransformerEncoderLayer(dim, 4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, input_embeds):
        return self.encoder(input_embeds)


class PromptTuningClassifier(nn.Module):
    def __init__(self, backbone, soft_prompt, n_cls=4):
        super().__init__()
        self.backbone = backbone
        self.soft_prompt = soft_prompt
        self.head = nn.Linear(backbone.embed.embedding_dim, n_cls)

    def forward(self, input_ids):
        tok = self.backbone.embed(input_ids)
        prompt = self.soft_prompt.unsqueeze(0).expand(tok.size(0), -1, -1)
        h = self.backbone(torch.cat([prompt.to(tok.dtype), tok], dim=1))
        return self.head(h[:, 0])


def init_soft_prompt(backbone, n_tokens, device, dtype):
    init = backbone.embed.weight[:n_tokens].detach().clone()
    return init.requires_grad_(True).to(device=device, dtype=dtype)


def main():
    set_seed(0)
    accelerator = Accelerator(mixed_precision="bf16")
    weight_dtype = torch.bfloat16 if accelerator.mixed_precision == "bf16" else torch.float32
    backbone = FrozenTextEncoder()
    backbone.requires_grad_(False)
    soft_prompt = init_soft_prompt(backbone, 8, accelerator.device, weight_dtype)
    model = PromptTuningClassifier(backbone, soft_prompt)
    ids, labels = torch.randint(0, 100, (16, 10)), torch.randint(0, 4, (16,))
    loader = DataLoader(TensorDataset(ids, labels), batch_size=8, shuffle=True)
    optimizer = torch.optim.AdamW([soft_prompt, *model.head.parameters()], lr=3e-2)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    p0 = soft_prompt.detach().clone()
    for input_ids, y in loader:
        loss = F.cross_entropy(model(input_ids), y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return ({"model": model}, {"prompt_changed": not torch.equal(p0, soft_prompt)})

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
