import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import (PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments)


class TwoTowerConfig(PretrainedConfig):
    model_type = "two-tower"

    def __init__(self, n_users=40, n_items=40, dim=8, out_dim=16, init_temp=0.07, max_logit_scale=100.0, **kwargs):
        super().__init__(**kwargs)
        self.n_users, self.n_items, self.dim, self.out_dim = n_users, n_items, dim, out_dim
        self.init_temp, self.max_logit_scale = init_temp, max_logit_scale


class TwoTowerModel(PreTrainedModel):
    config_class = TwoTowerConfig
    main_input_name = "user_ids"

    def __init__(self, config):
        super().__init__(config)
        self.user_emb = nn.Embedding(config.n_users, config.dim)
        self.item_emb = nn.Embedding(config.n_items, config.dim)
        self.user_mlp = nn.Sequential(nn.Linear(config.dim, 32), nn.ReLU(), nn.Linear(32, config.out_dim))
        self.item_mlp = nn.Sequential(nn.Linear(config.dim, 32), nn.ReLU(), nn.Linear(32, config.out_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / config.init_temp)))
        self.post_init()

    def forward(self, user_ids, item_ids):
        u = F.normalize(self.user_mlp(self.user_emb(user_ids)), dim=-1)
        v = F.normalize(self.item_mlp(self.item_emb(item_ids)), dim=-1)
        return {"logits": self.logit_scale.exp() * u @ v.t()}


class ContrastiveTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(user_ids=inputs["user_ids"], item_ids=inputs["item_ids"])
        logits = outputs["logits"]
        labels = torch.arange(logits.shape[0])
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
        return (loss, outputs) if return_outputs else loss


class ClampLogitScaleCallback(TrainerCallback):
    """CLIP: keep the learned temperature from scaling logits by more than max_logit_scale."""

    def on_step_end(self, args, state, control, model=None, **kwargs):
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(model.config.max_logit_scale))
        state.log_history.append({"logit_scale": model.logit_scale.exp().item()})


class Pairs(Dataset):
    def __init__(self, n=64, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.users = torch.randint(0, 40, (n,), generator=g)
        self.items = (self.users * 3 + torch.randint(0, 2, (n,), generator=g)) % 40

    def __len__(self):
        return len(self.users)

    def __getitem__(self, k):
        return {"user_ids": self.users[k], "item_ids": self.items[k]}


class LastStepGradProbe(TrainerCallback):
    """Copies the gradients seen before the last optimizer step (the Trainer zeroes them afterwards)."""

    def __init__(self):
        self.grads = {}

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def main():
    torch.manual_seed(0)
    model = TwoTowerModel(TwoTowerConfig())
    scale0 = model.logit_scale.detach().clone()
    item0 = model.item_mlp[0].weight.detach().clone()
    probe = LastStepGradProbe()
    args = TrainingArguments(output_dir="/tmp/two_tower", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none", remove_unused_columns=False, seed=0)
    trainer = ContrastiveTrainer(model=model, args=args, train_dataset=Pairs(),
                                 callbacks=[ClampLogitScaleCallback(), probe])
    trainer.train()
    return {"model": model}, {
        "logit_scale_changed": not torch.equal(scale0, model.logit_scale),
        "logit_scale_in_range": bool(model.logit_scale.exp() <= model.config.max_logit_scale),
        "item_tower_changed": not torch.equal(item0, model.item_mlp[0].weight),
        "logit_scale_had_grad": "logit_scale" in probe.grads,
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
