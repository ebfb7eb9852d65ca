import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput

TASKS = {"intent": 4, "sentiment": 3}


class JointConfig(PretrainedConfig):
    model_type = "joint-nlu"

    def __init__(self, vocab_size=64, hidden=32, layers=1, tasks=None, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.layers = vocab_size, hidden, layers
        self.tasks = dict(tasks or TASKS)


class JointNLUModel(PreTrainedModel):
    config_class = JointConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        enc = nn.TransformerEncoderLayer(config.hidden, 4, 2 * config.hidden, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(enc, config.layers)
        self.dropout = nn.Dropout(0.1)
        self.heads = {task: nn.Linear(config.hidden, n) for task, n in config.tasks.items()}
        self.task_weights = {"intent": 1.0, "sentiment": 0.5}
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)

    def forward(self, input_ids, intent_labels=None, sentiment_labels=None):
        pooled = self.dropout(self.encoder(self.embed(input_ids)).mean(1))
        logits = {task: head(pooled) for task, head in self.heads.items()}
        loss = None
        if intent_labels is not None:
            loss = self.task_weights["intent"] * F.cross_entropy(logits["intent"], intent_labels)
            loss = loss + self.task_weights["sentiment"] * F.cross_entropy(logits["sentiment"], sentiment_labels)
        return ModelOutput(loss=loss, intent_logits=logits["intent"], sentiment_logits=logits["sentiment"])


class Utterances(Dataset):
    def __init__(self, n=32, seq=10):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 64, (n, seq), generator=g)
        self.intent = self.ids[:, 0] % 4
        self.sentiment = self.ids[:, -1] % 3

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "intent_labels": self.intent[i], "sentiment_labels": self.sentiment[i]}


def main():
    torch.manual_seed(0)
    model = JointNLUModel(JointConfig())
    args = TrainingArguments(output_dir="/tmp/c3306_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, label_names=["intent_labels", "sentiment_labels"], report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=Utterances())
    head0 = model.heads["intent"].weight.detach().clone()
    emb0 = model.embed.weight.detach().clone()
    trainer.train()
    facts = {"intent_head_changed": not torch.equal(head0, model.heads["intent"].weight),
             "embedding_changed": not torch.equal(emb0, model.embed.weight)}
    return {"model": model, "intent_head": model.heads["intent"]}, facts

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
