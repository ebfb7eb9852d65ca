import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class SSMConfig(PretrainedConfig):
    model_type = "tiny-ssm"

    def __init__(self, vocab_size=20, d_model=16, d_state=4, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.d_model, self.d_state = vocab_size, d_model, d_state


class SelectiveScan(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1).float()).repeat(d, 1))
        self.dt_proj = nn.Linear(d, d)
        self.B_proj = nn.Linear(d, n)
        self.C_proj = nn.Linear(d, n)

    def forward(self, x, mask):
        A = -torch.exp(self.A_log)
        delta = F.softplus(self.dt_proj(x)).unsqueeze(-1)
        a_bar = torch.exp(delta * A)
        a_bar.mul_(mask[:, :, None, None])
        bx = delta * self.B_proj(x).unsqueeze(2) * x.unsqueeze(-1)
        h, ys = torch.zeros_like(bx[:, 0]), []
        for t in range(x.size(1)):
            h = a_bar[:, t] * h + bx[:, t]
            ys.append((h * self.C_proj(x[:, t]).unsqueeze(1)).sum(-1))
        return torch.stack(ys, 1)


class TinySSMForSequenceClassification(PreTrainedModel):
    config_class = SSMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.mixer = SelectiveScan(config.d_model, config.d_state)
        self.norm = nn.LayerNorm(config.d_model)
        self.classifier = nn.Linear(config.d_model, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask, labels=None):
        mask = attention_mask.float()
        h = self.norm(self.mixer(self.embed(input_ids), mask))
        pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class ToySeqs(Dataset):
    def __init__(self, n=16, length=10):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 20, (n, length), generator=g)
        self.lengths = torch.randint(5, length + 1, (n,), generator=g)
        self.labels = (self.ids[:, 0] % 2).tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        mask = (torch.arange(self.ids.size(1)) < self.lengths[i]).long()
        return {"input_ids": self.ids[i], "attention_mask": mask, "label": self.labels[i]}


def main():
    model = TinySSMForSequenceClassification(SSMConfig())
    args = TrainingArguments(output_dir="/tmp/c3207_out", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=ToySeqs())
    trainer.train()
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
