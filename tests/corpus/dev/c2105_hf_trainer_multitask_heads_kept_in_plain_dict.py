import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MultiTaskConfig(PretrainedConfig):
    model_type = "multitask-encoder"

    def __init__(self, vocab_size=50, hidden_size=16, tasks=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.tasks = tasks or {"sentiment": 3, "topic": 4}


class MultiTaskEncoder(PreTrainedModel):
    config_class = MultiTaskConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.encoder = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())
        self.heads = {}
        for task, n in config.tasks.items():
            self.heads[task] = nn.Linear(config.hidden_size, n)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.2)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids, task_id, labels=None):
        pooled = self.encoder(self.embeddings(input_ids)).mean(dim=1)
        name = list(self.config.tasks)[int(task_id[0])]
        logits = self.heads[name](pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TaskBatches(Dataset):
    """Each example carries its task id; batches are homogeneous because the sampler keeps order."""

    def __init__(self, n=32, seq=6):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 50, (n, seq), generator=g)
        self.task = torch.tensor([0] * (n // 2) + [1] * (n // 2))
        self.labels = torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "task_id": self.task[i], "labels": self.labels[i]}


class TaskTrainer(Trainer):
    def get_train_dataloader(self):
        return torch.utils.data.DataLoader(self.train_dataset, batch_size=8, shuffle=False,
                                           collate_fn=self.data_collator)


def main():
    torch.manual_seed(0)
    model = MultiTaskEncoder(MultiTaskConfig())
    head0 = model.heads["sentiment"].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/mt", num_train_epochs=2, learning_rate=5e-2, report_to="none")
    trainer = TaskTrainer(model=model, args=args, train_dataset=TaskBatches())
    trainer.train()
    batch = {"input_ids": TaskBatches().ids[:8], "task_id": torch.zeros(8, dtype=torch.long),
             "labels": TaskBatches().labels[:8]}
    model(**batch).loss.backward()
    in_opt = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    return ({"model": model, "sentiment_head": model.heads["sentiment"]},
            {"sentiment_head_changed": not torch.equal(head0, model.heads["sentiment"].weight),
             "head_in_optimizer": id(model.heads["sentiment"].weight) in in_opt})

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
