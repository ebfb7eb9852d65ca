import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class SwitchConfig(PretrainedConfig):
    model_type = "tiny-switch"

    def __init__(self, vocab_size=40, hidden_size=16, num_experts=4, num_labels=3, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.num_experts, self.num_labels = num_experts, num_labels


class Top1Router(nn.Module):
    def __init__(self, hidden, n_experts):
        super().__init__()
        self.classifier = nn.Linear(hidden, n_experts, bias=False)

    def forward(self, h):
        logits = self.classifier(h)
        expert_index = logits.argmax(dim=-1)
        dispatch = F.one_hot(expert_index, logits.shape[-1]).to(h.dtype)
        return dispatch, expert_index


class SwitchFFN(nn.Module):
    def __init__(self, hidden, n_experts):
        super().__init__()
        self.router = Top1Router(hidden, n_experts)
        self.experts = nn.ModuleList([nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
                                      for _ in range(n_experts)])

    def forward(self, h):
        dispatch, _ = self.router(h)
        expert_out = torch.stack([e(h) for e in self.experts], dim=-2)  # (B, T, E, H)
        return h + (dispatch.unsqueeze(-1) * expert_out).sum(-2)


class SwitchForSequenceClassification(PreTrainedModel):
    config_class = SwitchConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.moe = SwitchFFN(config.hidden_size, config.num_experts)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.norm(self.moe(self.embed(input_ids)))
        logits = self.classifier(h.mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class ToyIntentDataset(Dataset):
    def __init__(self, n=32, length=6):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 40, (n, length), generator=g)
        self.labels = torch.randint(0, 3, (n,), generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = SwitchForSequenceClassification(SwitchConfig())
    router_w0 = model.moe.router.classifier.weight.detach().clone()
    expert_w0 = model.moe.experts[0][0].weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/switch", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=ToyIntentDataset()).train()
    facts = {"router_changed": not torch.equal(router_w0, model.moe.router.classifier.weight),
             "experts_changed": not torch.equal(expert_w0, model.moe.experts[0][0].weight)}
    return {"model": model}, facts

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
