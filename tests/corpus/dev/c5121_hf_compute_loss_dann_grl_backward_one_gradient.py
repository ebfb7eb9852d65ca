import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd


def grad_reverse(x, lambd=1.0):
    return GradReverse.apply(x, lambd)


class DANNConfig(PretrainedConfig):
    model_type = "dann"

    def __init__(self, in_dim=20, hidden=32, grl_lambda=0.3, **kw):
        super().__init__(**kw)
        self.in_dim, self.hidden, self.grl_lambda = in_dim, hidden, grl_lambda


class DANNModel(PreTrainedModel):
    config_class = DANNConfig

    def __init__(self, config):
        super().__init__(config)
        self.features = nn.Sequential(nn.Linear(config.in_dim, config.hidden), nn.ReLU())
        self.label_head = nn.Linear(config.hidden, config.num_labels)
        self.domain_head = nn.Sequential(nn.Linear(config.hidden, 16), nn.ReLU(), nn.Linear(16, 2))
        self.post_init()

    def forward(self, x, domain, labels=None):
        f = self.features(x)
        return {"logits": self.label_head(f), "domain_logits": self.domain_head(grad_reverse(f, self.config.grl_lambda))}


class DomainAdversarialTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels, domain = inputs.pop("labels"), inputs["domain"]
        out = model(**inputs)
        src = domain == 0
        cls_loss = F.cross_entropy(out["logits"][src], labels[src]) if src.any() else out["logits"].sum() * 0
        dom_loss = F.cross_entropy(out["domain_logits"], domain)
        loss = cls_loss + dom_loss
        return (loss, out) if return_outputs else loss


def make_dataset(n=64, d=20):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    domain = (torch.arange(n) % 2)
    x[domain == 1] += 1.5
    labels = (x[:, 0] > 0.5).long()
    return [{"x": x[i], "domain": int(domain[i]), "label": int(labels[i])} for i in range(n)]


def main():
    torch.manual_seed(0)
    model = DANNModel(DANNConfig(num_labels=2))
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    DomainAdversarialTrainer(model=model, args=args, train_dataset=make_dataset()).train()
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
