import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class CompactConfig(PretrainedConfig):
    model_type = "compact-classifier"

    def __init__(self, n_features=24, hidden_size=32, rank=6, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.n_features, self.hidden_size, self.rank = n_features, hidden_size, rank


class LowRankLinear(nn.Module):
    """Replaces a dense pretrained projection W by its rank-r SVD factors U_r diag(S_r) V_r^T."""

    def __init__(self, dense_weight, bias, rank):
        super().__init__()
        U, S, Vh = torch.linalg.svd(dense_weight, full_matrices=False)
        self.U = (U[:, :rank] * S[:rank]).contiguous().requires_grad_()
        self.V = Vh[:rank].contiguous().requires_grad_()
        self.bias = nn.Parameter(bias.clone())

    def forward(self, x):
        return (x @ self.V.t()) @ self.U.t() + self.bias


class CompactClassifier(PreTrainedModel):
    config_class = CompactConfig
    main_input_name = "features"

    def __init__(self, config, pretrained_proj=None):
        super().__init__(config)
        dense = pretrained_proj if pretrained_proj is not None else nn.Linear(config.n_features, config.hidden_size)
        self.proj = LowRankLinear(dense.weight.detach(), dense.bias.detach(), config.rank)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, features=None, labels=None):
        logits = self.classifier(F.gelu(self.norm(self.proj(features))))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=64):
    g = torch.Generator().manual_seed(14)
    x = torch.randn(n, 24, generator=g)
    y = (x[:, :6].sum(1) > 0).long() + (x[:, 6] > 1).long()
    return [{"features": x[i], "labels": int(y[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    pretrained = nn.Linear(24, 32)
    model = CompactClassifier(CompactConfig(), pretrained_proj=pretrained)
    u0 = model.proj.U.detach().clone()
    args = TrainingArguments(output_dir="tmp_compact", num_train_epochs=2, per_device_train_batch_size=16,
                             learning_rate=5e-3, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    in_opt = any(p is model.proj.U for grp in trainer.optimizer.param_groups for p in grp["params"])
    return {"model": model}, {"factors_changed": not torch.equal(u0, model.proj.U), "factors_in_optimizer": in_opt,
                              "factors_in_parameters": any(p is model.proj.U for p in model.parameters())}

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
