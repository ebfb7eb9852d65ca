import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class LoraClsConfig(PretrainedConfig):
    model_type = "lora-cls"

    def __init__(self, dim=16, rank=4, num_labels=3, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.rank, self.num_labels = dim, rank, num_labels


class LoraClassifier(PreTrainedModel):
    config_class = LoraClsConfig

    def __init__(self, config):
        super().__init__(config)
        self.base = nn.Linear(config.dim, config.dim)
        self.lora_A = nn.Linear(config.dim, config.rank, bias=False)
        self.lora_B = nn.Linear(config.rank, config.dim, bias=False)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.base.requires_grad_(False)

    def load_adapter(self, state):
        with torch.no_grad():
            self.lora_A.weight.data.copy_(state["lora_A"])
            self.lora_B.weight.data.copy_(state["lora_B"])
        for p in list(self.lora_A.parameters()) + list(self.lora_B.parameters()):
            p.requires_grad_(True)

    def forward(self, features, labels=None):
        h = F.gelu(self.base(features) + self.lora_B(self.lora_A(features)))
        logits = self.classifier(h)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class AdapterGradLogger(TrainerCallback):
    def __init__(self):
        self.grad_norms = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        grads = [p.grad for n, p in model.named_parameters() if "lora_" in n and p.grad is not None]
        total = torch.stack([g.norm() for g in grads]).sum() if grads else torch.tensor(0.0)
        self.grad_norms.append(total.item())


class FeatDataset(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(n, 16, generator=g), torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = LoraClassifier(LoraClsConfig())
    model.load_adapter({"lora_A": torch.randn(4, 16) * 0.1, "lora_B": torch.zeros(16, 4)})
    b0, base0 = model.lora_B.weight.detach().clone(), model.base.weight.detach().clone()
    logger = AdapterGradLogger()
    args = TrainingArguments(output_dir="/tmp/lora_resume", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=FeatDataset(), callbacks=[logger])
    trainer.train()
    facts = {"lora_B_changed": not torch.equal(b0, model.lora_B.weight),
             "base_changed": not torch.equal(base0, model.base.weight),
             "every_step_had_lora_grad": len(logger.grad_norms) > 0 and all(v > 0 for v in logger.grad_norms),
             "lora_trainable": model.lora_A.weight.requires_grad and model.lora_B.weight.requires_grad}
    return {"classifier": model.classifier}, facts

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
