import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.mix(self.tok(ids).mean(dim=1))


class ImageEncoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                                 nn.Flatten(), nn.Linear(32, dim))

    def forward(self, x):
        return self.net(x)


class PromptClassifier(nn.Module):
    """Image features are matched against projected class-prompt features (CLIP-adapter style)."""

    def __init__(self, dim=16):
        super().__init__()
        self.image = ImageEncoder(dim)
        self.text_adapter = nn.Linear(dim, dim)
        self.logit_scale = nn.Parameter(torch.tensor(2.0))

    def forward(self, images, class_feats):
        img = F.normalize(self.image(images), dim=-1)
        txt = F.normalize(self.text_adapter(class_feats), dim=-1)
        return self.logit_scale.exp() * img @ txt.t()


@torch.inference_mode()
def encode_class_prompts(text_encoder, prompt_ids):
    return text_encoder(prompt_ids)


def main():
    fabric = Fabric(accelerator="cpu")
    fabric.seed_everything(0)
    text_encoder = FrozenTextEncoder().eval()
    class_feats = encode_class_prompts(text_encoder, torch.randint(0, 50, (4, 5)))
    model = PromptClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(DataLoader(TensorDataset(torch.randn(16, 3, 8, 8), torch.randint(0, 4, (16,))),
                                                 batch_size=8, shuffle=True))
    for images, labels in loader:
        loss = F.cross_entropy(model(images, class_feats), labels)
        optimizer.zero_grad()
        fabric.backward(loss)
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
