import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class RewardConfig(PretrainedConfig):
    model_type = "bt_reward"

    def __init__(self, vocab=64, dim=32, reward_scale_init=2.0, **kw):
        super().__init__(**kw)
        self.vocab, self.dim, self.reward_scale_init = vocab, dim, reward_scale_init


class RewardModel(PreTrainedModel):
    config_class = RewardConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.EmbeddingBag(config.vocab, config.dim, mode="mean")
        self.body = nn.Sequential(nn.Linear(config.dim, config.dim), nn.GELU())
        self.value = nn.Linear(config.dim, 1)
        self.reward_scale = nn.Parameter(torch.ones(1)) * config.reward_scale_init

    def score(self, ids):
        return self.reward_scale * self.value(self.body(self.embed(ids))).squeeze(-1)

    def forward(self, chosen_ids, rejected_ids):
        r_c, r_r = self.score(chosen_ids), self.score(rejected_ids)
        return ModelOutput(loss=-F.logsigmoid(r_c - r_r).mean(), margin=(r_c - r_r).detach())


class PreferenceTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(chosen_ids=inputs["chosen_ids"], rejected_ids=inputs["rejected_ids"])
        loss = outputs["loss"]
        return (loss, outputs) if return_outputs else loss


class PreferencePairs(Dataset):
    def __init__(self, n=96):
        g = torch.Generator().manual_seed(0)
        self.chosen = torch.randint(0, 32, (n, 8), generator=g)
        self.rejected = torch.randint(32, 64, (n, 8), generator=g)

    def __len__(self):
        return len(self.chosen)

    def __getitem__(self, i):
        return {"chosen_ids": self.chosen[i], "rejected_ids": self.rejected[i]}


def main():
    torch.manual_seed(0)
    model = RewardModel(RewardConfig())
    scale0 = model.reward_scale.detach().clone()
    v0 = model.value.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=5e-3, remove_unused_columns=False, report_to="none")
    PreferenceTrainer(model=model, args=args, train_dataset=PreferencePairs()).train()
    return {"model": model}, {"reward_scale_changed": not torch.equal(scale0, model.reward_scale.detach()),
                              "value_head_changed": not torch.equal(v0, model.value.weight)}

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
