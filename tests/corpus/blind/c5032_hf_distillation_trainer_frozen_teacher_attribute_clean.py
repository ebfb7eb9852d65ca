import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class BagConfig(PretrainedConfig):
    model_type = "bag_classifier"

    def __init__(self, vocab=64, dim=16, hidden=32, **kw):
        super().__init__(**kw)
        self.vocab, self.dim, self.hidden = vocab, dim, hidden


class BagClassifier(PreTrainedModel):
    config_class = BagConfig

    def __init__(self, config):
        super().__init__(config)
        self.bag = nn.EmbeddingBag(config.vocab, config.dim, mode="mean")
        self.head = nn.Sequential(nn.Linear(config.dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.num_labels))

    def forward(self, input_ids, labels=None):
        logits = self.head(self.bag(input_ids))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher=None, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.eval().requires_grad_(False)
        self.temperature, self.alpha = temperature, alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        with torch.no_grad():
            t_logits = self.teacher(input_ids=inputs["input_ids"]).logits
        T = self.temperature
        kd = F.kl_div(F.log_softmax(outputs.logits / T, -1), F.softmax(t_logits / T, -1), reduction="batchmean")
        loss = self.alpha * outputs.loss + (1 - self.alpha) * T * T * kd
        return (loss, outputs) if return_outputs else loss


class TokenDataset(Dataset):
    def __init__(self, n=96):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 64, (n, 6), generator=g)
        self.y = (self.ids.float().mean(1) > 31.5).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "label": int(self.y[i])}


def main():
    torch.manual_seed(0)
    teacher = BagClassifier(BagConfig(dim=32, hidden=64, num_labels=2))
    student = BagClassifier(BagConfig(num_labels=2))
    s0, t0 = student.bag.weight.detach().clone(), teacher.bag.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    DistillationTrainer(model=student, args=args, train_dataset=TokenDataset(), teacher=teacher).train()
    return {"student": student}, {"student_changed": not torch.equal(s0, student.bag.weight),
                                  "teacher_changed": not torch.equal(t0, teacher.bag.weight)}

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
