import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class MILConfig(PretrainedConfig):
    model_type = "max-mil"

    def __init__(self, feat_dim=12, hidden=16, **kwargs):
        self.feat_dim = feat_dim
        self.hidden = hidden
        super().__init__(**kwargs)


class InstanceScorer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(config.feat_dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 1))

    def forward(self, instances):
        return self.net(instances).squeeze(-1)


class MaxPoolingMIL(PreTrainedModel):
    config_class = MILConfig

    def __init__(self, config):
        super().__init__(config)
        self.scorer = InstanceScorer(config)
        self.post_init()

    def forward(self, instances, labels=None):
        scores = self.scorer(instances)
        bag_logit, key_instance = torch.max(scores, dim=1)
        loss = F.binary_cross_entropy_with_logits(bag_logit, labels.float()) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=bag_logit)


def make_bags(n=48, bag_size=6, feat_dim=12):
    g = torch.Generator().manual_seed(11)
    rows = []
    for i in range(n):
        bag = torch.randn(bag_size, feat_dim, generator=g)
        label = i % 2
        if label:
            bag[int(torch.randint(bag_size, (1,), generator=g))] += 2.0
        rows.append({"instances": bag, "label": label})
    return rows


def main():
    torch.manual_seed(0)
    model = MaxPoolingMIL(MILConfig())
    args = TrainingArguments(output_dir="mil_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=make_bags())
    w0 = model.scorer.net[0].weight.detach().clone()
    trainer.train()
    return {"model": model}, {"scorer_changed": not torch.equal(w0, model.scorer.net[0].weight)}

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
