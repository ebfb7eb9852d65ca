import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MultiScaleBlock(nn.Module):
    """Parallel temporal convolutions with different receptive fields, fused by a 1x1 conv."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.branches = (
            nn.Conv1d(c_in, c_out, 3, padding=1),
            nn.Conv1d(c_in, c_out, 5, padding=2),
            nn.Conv1d(c_in, c_out, 9, padding=4),
        )
        self.fuse = nn.Conv1d(3 * c_out, c_out, 1)
        self.norm = nn.BatchNorm1d(c_out)

    def forward(self, x):
        feats = torch.cat([branch(x) for branch in self.branches], dim=1)
        return F.relu(self.norm(self.fuse(feats)))


class KeywordSpotter(nn.Module):
    def __init__(self, n_mels=16, channels=24, n_keywords=5):
        super().__init__()
        self.blocks = nn.Sequential(MultiScaleBlock(n_mels, channels), MultiScaleBlock(channels, channels))
        self.head = nn.Linear(channels, n_keywords)

    def forward(self, mel):
        return self.head(self.blocks(mel).mean(dim=-1))


def make_loader(n=64, n_mels=16, frames=40):
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(n, n_mels, frames, generator=g)
    labels = mel[:, :5].mean(dim=-1).argmax(dim=-1)
    return DataLoader(TensorDataset(mel, labels), batch_size=16, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for mel, y in loader:
            loss = F.cross_entropy(model(mel), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    net = KeywordSpotter()
    model = nn.DataParallel(net)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    branch_before = net.blocks[0].branches[1].weight.detach().clone()
    fuse_before = net.blocks[0].fuse.weight.detach().clone()
    train(model, make_loader(), optimizer)
    facts = {
        "branch_weight_changed": not torch.equal(branch_before, net.blocks[0].branches[1].weight),
        "branch_in_state_dict": any("branches" in k for k in model.state_dict()),
        "fuse_weight_changed": not torch.equal(fuse_before, net.blocks[0].fuse.weight),
    }
    return {"model": model}, facts

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
