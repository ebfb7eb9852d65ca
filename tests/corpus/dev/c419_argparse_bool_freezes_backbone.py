import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="fine-tune a small audio tagger")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--freeze_backbone", type=bool, default=False)
    return parser.parse_args(argv)


class AudioTagger(nn.Module):
    def __init__(self, n_mels=16, ch=16, n_tags=6):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv1d(n_mels, ch, 3, padding=1), nn.BatchNorm1d(ch), nn.ReLU(),
                                      nn.Conv1d(ch, ch, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(ch, n_tags)

    def forward(self, mel):
        return self.head(self.backbone(mel).mean(-1))


def configure_finetuning(model, args):
    for p in model.backbone.parameters():
        p.requires_grad = not args.freeze_backbone
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=args.lr)


def train(model, loader, optimizer, epochs):
    for _ in range(epochs):
        for mel, tags in loader:
            loss = F.binary_cross_entropy_with_logits(model(mel), tags)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    args = parse_args(["--lr", "1e-3", "--freeze_backbone", "False"])
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(48, 16, 20, generator=g)
    tags = (torch.rand(48, 6, generator=g) > 0.7).float()
    loader = DataLoader(TensorDataset(mel, tags), batch_size=16, shuffle=True, generator=g)
    model = AudioTagger()
    optimizer = configure_finetuning(model, args)
    train(model, loader, optimizer, args.epochs)
    return {"model": model}, {"freeze_backbone_flag": args.freeze_backbone}

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
