import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class TwoTowerConfig(PretrainedConfig):
    model_type = "two_tower"

    def __init__(self, n_user_feats=50, n_item_feats=40, dim=16, init_temp=0.1, **kw):
        super().__init__(**kw)
        self.n_user_feats, self.n_item_feats, self.dim, self.init_temp = n_user_feats, n_item_feats, dim, init_temp


class Tower(nn.Module):
    """Sparse features -> pooled EmbeddingBag -> MLP -> unit vector."""

    def __init__(self, n_feats, dim):
        super().__init__()
        self.bag = nn.EmbeddingBag(n_feats, dim, mode="mean")
        self.mlp = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, feats):
        return F.normalize(self.mlp(self.bag(feats)), dim=-1)


class TwoTowerRetriever(PreTrainedModel):
    config_class = TwoTowerConfig

    def __init__(self, config):
        super().__init__(config)
        self.towers = [Tower(config.n_user_feats, config.dim), Tower(config.n_item_feats, config.dim)]
        self.log_inv_temp = nn.Parameter(torch.tensor(-torch.log(torch.tensor(config.init_temp)).item()))
        self.post_init()

    def forward(self, user_feats, item_feats, labels=None):
        user_tower, item_tower = self.towers
        u, v = user_tower(user_feats), item_tower(item_feats)
        logits = self.log_inv_temp.exp() * u @ v.t()
        loss = F.cross_entropy(logits, torch.arange(len(u), device=logits.device))
        return ModelOutput(loss=loss, logits=logits)


class InteractionDataset(Dataset):
    def __init__(self, n=96, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.users = torch.randint(0, 50, (n, 5), generator=g)
        self.items = (self.users[:, :3] * 7 + torch.randint(0, 3, (n, 3), generator=g)) % 40

    def __len__(self):
        return len(self.users)

    def __getitem__(self, i):
        return {"user_feats": self.users[i], "item_feats": self.items[i]}


def main():
    torch.manual_seed(0)
    model = TwoTowerRetriever(TwoTowerConfig())
    user_bag0 = model.towers[0].bag.weight.detach().clone()
    item_mlp0 = model.towers[1].mlp[0].weight.detach().clone()
    temp0 = model.log_inv_temp.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=32, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=InteractionDataset()).train()
    return {"model": model}, {
        "user_tower_changed": not torch.equal(user_bag0, model.towers[0].bag.weight),
        "item_tower_changed": not torch.equal(item_mlp0, model.towers[1].mlp[0].weight),
        "temperature_changed": not torch.equal(temp0, model.log_inv_temp.detach()),
    }

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
