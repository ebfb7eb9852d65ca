import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class RecConfig(PretrainedConfig):
    model_type = "two_tower_rec"

    def __init__(self, n_users=50, n_items=80, dim=16, **kwargs):
        super().__init__(**kwargs)
        self.n_users, self.n_items, self.dim = n_users, n_items, dim


class TwoTowerRecommender(PreTrainedModel):
    config_class = RecConfig

    def __init__(self, config):
        super().__init__(config)
        # sparse lookups keep the per-step update cheap for big id tables
        self.user_emb = nn.Embedding(config.n_users, config.dim, sparse=True)
        self.item_emb = nn.Embedding(config.n_items, config.dim, sparse=True)
        self.user_tower = nn.Sequential(nn.Linear(config.dim, config.dim), nn.ReLU())
        self.item_tower = nn.Sequential(nn.Linear(config.dim, config.dim), nn.ReLU())
        self.post_init()

    def forward(self, user_ids=None, item_ids=None, labels=None):
        u = self.user_tower(self.user_emb(user_ids))
        v = self.item_tower(self.item_emb(item_ids))
        logits = (u * v).sum(-1)
        loss = F.binary_cross_entropy_with_logits(logits, labels.float()) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class Interactions(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.u = torch.randint(0, 50, (n,), generator=g)
        self.i = torch.randint(0, 80, (n,), generator=g)
        self.y = torch.randint(0, 2, (n,), generator=g)

    def __len__(self):
        return len(self.u)

    def __getitem__(self, k):
        return {"user_ids": self.u[k], "item_ids": self.i[k], "labels": self.y[k]}


def main():
    model = TwoTowerRecommender(RecConfig())
    args = TrainingArguments(output_dir="out_rec", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, max_grad_norm=0.0, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=Interactions())
    trainer.train()
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
