import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TopKBinarizer(torch.autograd.Function):
    """Keep the top `keep` fraction of the importance scores (movement pruning)."""

    @staticmethod
    def forward(ctx, scores, keep):
        k = max(1, int(keep * scores.numel()))
        threshold = scores.flatten().kthvalue(scores.numel() - k + 1).values
        return (scores >= threshold).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return None, None


class MaskedLinear(nn.Linear):
    def __init__(self, in_f, out_f, keep):
        super().__init__(in_f, out_f)
        self.keep = keep
        self.mask_scores = nn.Parameter(torch.full((out_f, in_f), 0.01) + 0.001 * torch.randn(out_f, in_f))

    def forward(self, x):
        mask = TopKBinarizer.apply(self.mask_scores, self.keep)
        return F.linear(x, self.weight * mask, self.bias)


class PrunedConfig(PretrainedConfig):
    model_type = "pruned_mlp"

    def __init__(self, in_dim=24, hidden=32, keep=0.5, **kw):
        super().__init__(**kw)
        self.in_dim, self.hidden, self.keep = in_dim, hidden, keep


class PrunedClassifier(PreTrainedModel):
    config_class = PrunedConfig

    def __init__(self, config):
        super().__init__(config)
        self.fc1 = MaskedLinear(config.in_dim, config.hidden, config.keep)
        self.fc2 = MaskedLinear(config.hidden, config.num_labels, config.keep)

    def forward(self, features, labels=None):
        return SequenceClassifierOutput(logits=self.fc2(F.relu(self.fc1(features))))


class MovementPruningTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.cross_entropy(outputs.logits, labels, label_smoothing=0.05)
        return (loss, outputs) if return_outputs else loss


class ToyDataset(Dataset):
    def __init__(self, n=96, dim=24):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, dim, generator=g)
        self.y = (self.x[:, 0] + self.x[:, 1] > 0).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "label": int(self.y[i])}


def main():
    torch.manual_seed(0)
    model = PrunedClassifier(PrunedConfig(num_labels=2))
    s0 = model.fc1.mask_scores.detach().clone()
    w0 = model.fc1.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    MovementPruningTrainer(model=model, args=args, train_dataset=ToyDataset()).train()
    return {"model": model}, {
        "mask_scores_changed": not torch.equal(s0, model.fc1.mask_scores),
        "weights_changed": not torch.equal(w0, model.fc1.weight),
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
