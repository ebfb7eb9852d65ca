import io
import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset


class NCFRecommender(nn.Module):
    def __init__(self, n_users=30, n_items=40, dim=8):
        super().__init__()
        self.config = {"n_users": n_users, "n_items": n_items, "dim": dim}
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, u, i):
        return self.mlp(torch.cat([self.user(u), self.item(i)], dim=-1)).squeeze(-1)


def load_checkpoint(model, blob):
    """Rebuild the model from its config and restore the weights of a previous run."""
    restored = type(model)(**model.config)
    restored.load_state_dict(torch.load(io.BytesIO(blob)))
    return restored


def train(ddp_model, loader, optimizer, epochs=2):
    ddp_model.train()
    for _ in range(epochs):
        for u, i, y in loader:
            loss = F.binary_cross_entropy_with_logits(ddp_model(u, i), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    init_file = os.path.join(tempfile.mkdtemp(), "ddp_init")
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=0, world_size=1)
    try:
        g = torch.Generator().manual_seed(0)
        u, i = torch.randint(0, 30, (64,), generator=g), torch.randint(0, 40, (64,), generator=g)
        y = ((u + i) % 3 == 0).float()
        loader = DataLoader(TensorDataset(u, i, y), batch_size=16, shuffle=True, generator=g)
        buf = io.BytesIO()
        torch.save(NCFRecommender().state_dict(), buf)
        model = NCFRecommender()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        model = load_checkpoint(model, buf.getvalue())
        ddp_model = DDP(model)
        before = model.mlp[0].weight.detach().clone()
        train(ddp_model, loader, optimizer)
        in_opt = {id(p) for grp in optimizer.param_groups for p in grp["params"]}
        facts = {
            "mlp_changed": not torch.equal(before, model.mlp[0].weight),
            "trained_params_in_optimizer": id(model.mlp[0].weight) in in_opt,
        }
    finally:
        dist.destroy_process_group()
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
