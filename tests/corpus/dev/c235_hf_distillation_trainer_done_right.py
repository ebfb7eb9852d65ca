import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class EncoderConfig(PretrainedConfig):
    model_type = "mini-encoder"

    def __init__(self, vocab_size=80, hidden_size=32, num_layers=2, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers


class MiniEncoderForSequenceClassification(PreTrainedModel):
    config_class = EncoderConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, config.hidden_size), nn.GELU())
            for _ in range(config.num_layers)
        )
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids, labels=None):
        h = self.embed(input_ids)
        for layer in self.layers:
            h = h + layer(h)
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher_model=None, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher_model.eval().requires_grad_(False)
        self.temperature = temperature
        self.alpha = alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        student_out = model(**inputs)
        with torch.no_grad():
            teacher_logits = self.teacher(input_ids=inputs["input_ids"]).logits
        t = self.temperature
        kd = F.kl_div(F.log_softmax(student_out.logits / t, dim=-1), F.log_softmax(teacher_logits / t, dim=-1),
                      reduction="batchmean", log_target=True) * t * t
        loss = self.alpha * student_out.loss + (1 - self.alpha) * kd
        self.log({"kd": kd.detach().item(), "ce": student_out.loss.item()})
        return (loss, student_out) if return_outputs else loss


def build_dataset(n=32, seq=8):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 80, (n, seq), generator=g)
    return [{"input_ids": ids[i], "labels": int(ids[i].sum() % 4)} for i in range(n)]


def main():
    torch.manual_seed(0)
    teacher = MiniEncoderForSequenceClassification(EncoderConfig(hidden_size=64, num_layers=3))
    student = MiniEncoderForSequenceClassification(EncoderConfig(hidden_size=32, num_layers=1))
    snap = {n: p.detach().clone() for n, p in student.named_parameters()}
    t_snap = teacher.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="distil", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=1e-3, report_to="none")
    trainer = DistillationTrainer(model=student, args=args, train_dataset=build_dataset(), teacher_model=teacher)
    trainer.train()
    facts = {
        "student_params_changed": sorted(n for n, p in student.named_parameters() if not torch.equal(snap[n], p.detach())),
        "teacher_unchanged": torch.equal(t_snap, teacher.classifier.weight.detach()),
        "logged_steps": sum(1 for r in trainer.state.log_history if "kd" in r),
    }
    return {"student": student, "teacher": teacher}, facts

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
