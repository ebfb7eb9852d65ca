import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def memory_readout(query_key, memory_keys, memory_values, valid):
    affinity = torch.einsum("bqd,bmd->bqm", query_key, memory_keys) / query_key.size(-1) ** 0.5
    affinity = affinity.softmax(dim=-1)
    affinity.masked_fill_(~valid[:, None, :], 0.0)
    return torch.einsum("bqm,bmd->bqd", affinity, memory_values)


class SpaceTimeMemoryNet(nn.Module):
    def __init__(self, in_dim=6, key_dim=8, val_dim=8):
        super().__init__()
        self.key_enc = nn.Linear(in_dim, key_dim)
        self.value_enc = nn.Linear(in_dim + 1, val_dim)
        self.decoder = nn.Sequential(nn.Linear(val_dim + key_dim, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, mem_frames, mem_masks, query_frame, valid):
        mk = self.key_enc(mem_frames)
        mv = self.value_enc(torch.cat([mem_frames, mem_masks.unsqueeze(-1)], dim=-1))
        qk = self.key_enc(query_frame)
        read = memory_readout(qk, mk, mv, valid)
        return self.decoder(torch.cat([read, qk], dim=-1)).squeeze(-1)


def train_one_epoch(model, loader, optimizer):
    for mem_frames, mem_masks, query, target, valid in loader:
        loss = F.binary_cross_entropy_with_logits(model(mem_frames, mem_masks, query, valid), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def video_batches(n=16, m=12, q=6, d=6):
    g = torch.Generator().manual_seed(0)
    mem = torch.randn(n, m, d, generator=g)
    masks = (mem[..., 0] > 0).float()
    query = torch.randn(n, q, d, generator=g)
    target = (query[..., 0] > 0).float()
    valid = torch.rand(n, m, generator=g) > 0.2
    return DataLoader(TensorDataset(mem, masks, query, target, valid), batch_size=8, shuffle=True, generator=g)


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(SpaceTimeMemoryNet())
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    train_one_epoch(model, video_batches(), optimizer)
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
