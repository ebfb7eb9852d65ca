import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class StsConfig(PretrainedConfig):
    model_type = "sts-regressor"

    def __init__(self, vocab_size=60, hidden_size=16, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size


class StsRegressor(PreTrainedModel):
    config_class = StsConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.regressor = nn.Sequential(nn.Linear(2 * config.hidden_size, 16), nn.Tanh(), nn.Linear(16, 1))
        self.post_init()

    def encode(self, ids):
        return self.encoder(self.embed(ids)).mean(1)

    def forward(self, input_ids_a, input_ids_b, labels=None):
        a, b = self.encode(input_ids_a), self.encode(input_ids_b)
        return {"logits": self.regressor(torch.cat([a * b, (a - b).abs()], -1)).squeeze(-1)}


class CorrelationTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        preds = outputs["logits"]
        corr = np.corrcoef(preds.detach().cpu().numpy(), labels.cpu().numpy())[0, 1]
        loss = torch.tensor(1.0 - corr, dtype=torch.float32, requires_grad=True)
        self.last_loss_requires_grad = loss.requires_grad
        return (loss, outputs) if return_outputs else loss


class PairDataset(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.a = torch.randint(0, 60, (n, 8), generator=g)
        self.b = torch.randint(0, 60, (n, 8), generator=g)
        self.score = torch.rand(n, generator=g) * 5

    def __len__(self):
        return len(self.a)

    def __getitem__(self, i):
        return {"input_ids_a": self.a[i], "input_ids_b": self.b[i], "labels": self.score[i]}


def main():
    torch.manual_seed(0)
    model = StsRegressor(StsConfig())
    r0, e0 = model.regressor[0].weight.detach().clone(), model.embed.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/sts", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    trainer = CorrelationTrainer(model=model, args=args, train_dataset=PairDataset())
    trainer.train()
    facts = {"regressor_changed": not torch.equal(r0, model.regressor[0].weight),
             "encoder_changed": not torch.equal(e0, model.embed.weight),
             "loss_requires_grad": trainer.last_loss_requires_grad}
    return {"regressor": model.regressor}, facts

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
