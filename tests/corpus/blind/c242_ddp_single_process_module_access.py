import socket

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


class Classifier(nn.Module):
    def __init__(self, d_in=12, width=32, n_classes=4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.head = nn.Linear(width, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def setup(rank=0, world_size=1):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)


def build_optimizer(ddp_model, lr=1e-2):
    core = ddp_model.module
    return torch.optim.SGD([
        {"params": core.backbone.parameters(), "lr": lr * 0.1},
        {"params": core.head.parameters(), "lr": lr},
    ], momentum=0.9)


@torch.no_grad()
def evaluate(ddp_model, loader):
    ddp_model.module.eval()
    correct = sum((ddp_model.module(x).argmax(-1) == y).sum().item() for x, y in loader)
    ddp_model.module.train()
    return correct / len(loader.dataset)


def train(ddp_model, loader, sampler, optimizer, epochs=2):
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(ddp_model(x), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    setup()
    try:
        dataset = TensorDataset(torch.randn(48, 12), torch.randint(0, 4, (48,)))
        sampler = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True)
        loader = DataLoader(dataset, batch_size=16, sampler=sampler)
        model = Classifier()
        ddp_model = DDP(model)
        optimizer = build_optimizer(ddp_model)
        w0 = model.backbone[0].weight.detach().clone()
        train(ddp_model, loader, sampler, optimizer)
        acc = evaluate(ddp_model, DataLoader(dataset, batch_size=16))
        state = ddp_model.module.state_dict()
    finally:
        dist.destroy_process_group()
    facts = {"backbone_changed": not torch.equal(w0, model.backbone[0].weight.detach()),
             "module_is_model": ddp_model.module is model, "acc_is_float": isinstance(acc, float),
             "checkpoint_keys": len(state)}
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
