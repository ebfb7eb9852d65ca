import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class RetrievalConfig(PretrainedConfig):
    model_type = "two-tower-xbm"

    def __init__(self, n_users=30, n_items=40, dim=16, memory_size=16, temperature=0.1, **kwargs):
        super().__init__(**kwargs)
        self.n_users, self.n_items, self.dim = n_users, n_items, dim
        self.memory_size, self.temperature = memory_size, temperature


class CrossBatchMemory:
    """XBM: keep the most recent item embeddings as extra negatives for later batches."""

    def __init__(self, size):
        self.size, self.feats = size, []

    def enqueue(self, feats):
        self.feats = (self.feats + list(feats))[-self.size:]

    def get(self):
        return torch.stack(self.feats) if self.feats else None


class TwoTowerRetriever(PreTrainedModel):
    config_class = RetrievalConfig

    def __init__(self, config):
        super().__init__(config)
        self.user_tower = nn.Sequential(nn.Embedding(config.n_users, config.dim), nn.Linear(config.dim, config.dim))
        self.item_tower = nn.Sequential(nn.Embedding(config.n_items, config.dim), nn.Linear(config.dim, config.dim))
        self.memory = CrossBatchMemory(config.memory_size)
        self.post_init()

    def forward(self, user_ids, item_ids):
        u = F.normalize(self.user_tower(user_ids), dim=-1)
        v = F.normalize(self.item_tower(item_ids), dim=-1)
        bank = self.memory.get()
        negatives = v if bank is None else torch.cat([v, bank], dim=0)
        logits = u @ negatives.T / self.config.temperature
        loss = F.cross_entropy(logits, torch.arange(u.size(0)))
        self.memory.enqueue(v)
        return ModelOutput(loss=loss, logits=logits)


class Interactions(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.users = torch.randint(0, 30, (n,), generator=g)
        self.items = (self.users + torch.randint(0, 3, (n,), generator=g)) % 40

    def __len__(self):
        return len(self.users)

    def __getitem__(self, i):
        return {"user_ids": self.users[i], "item_ids": self.items[i]}


def main():
    torch.manual_seed(0)
    model = TwoTowerRetriever(RetrievalConfig())
    args = TrainingArguments(output_dir="/tmp/xbm", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=Interactions()).train()
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
