import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class JointConfig(PretrainedConfig):
    model_type = "joint-sentiment-rating"

    def __init__(self, vocab_size=30, hidden=16, task_priors=(1.0, 0.5), **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.task_priors = vocab_size, hidden, list(task_priors)


class JointModel(PreTrainedModel):
    config_class = JointConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Sequential(nn.EmbeddingBag(config.vocab_size, config.hidden), nn.Tanh())
        self.sentiment = nn.Linear(config.hidden, 2)
        self.rating = nn.Linear(config.hidden, 1)
        prior = np.log(np.asarray(config.task_priors))
        self.log_vars = torch.from_numpy(prior).requires_grad_().float()
        self.post_init()

    def forward(self, input_ids, labels=None, ratings=None):
        h = self.encoder(input_ids)
        logits, rating = self.sentiment(h), self.rating(h).squeeze(-1)
        loss = None
        if labels is not None:
            losses = torch.stack([F.cross_entropy(logits, labels), F.mse_loss(rating, ratings)])
            loss = (torch.exp(-self.log_vars) * losses + self.log_vars).sum()
        return ModelOutput(loss=loss, logits=logits)


class UncertaintyWeightedTrainer(Trainer):
    def create_optimizer(self):
        super().create_optimizer()
        self.optimizer.add_param_group({"params": [self.model.log_vars], "weight_decay": 0.0})
        return self.optimizer


class Reviews(Dataset):
    def __init__(self, n=16):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 30, (n, 5), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        ids = self.ids[i]
        return {"input_ids": ids, "label": int(ids[0] < 15), "ratings": float(ids.float().mean() / 30)}


def main():
    model = JointModel(JointConfig())
    args = TrainingArguments(output_dir="/tmp/c2710", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-2, report_to="none")
    UncertaintyWeightedTrainer(model=model, args=args, train_dataset=Reviews()).train()
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
