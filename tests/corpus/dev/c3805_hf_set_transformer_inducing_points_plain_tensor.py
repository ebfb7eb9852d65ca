import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class SetTransformerConfig(PretrainedConfig):
    model_type = "set_transformer"

    def __init__(self, dim_in=2, dim_hidden=16, num_heads=2, num_inds=4, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.dim_in = dim_in
        self.dim_hidden = dim_hidden
        self.num_heads = num_heads
        self.num_inds = num_inds


class MAB(nn.Module):
    def __init__(self, dim_q, dim_k, dim_v, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.fc_q = nn.Linear(dim_q, dim_v)
        self.fc_k = nn.Linear(dim_k, dim_v)
        self.fc_v = nn.Linear(dim_k, dim_v)
        self.fc_o = nn.Linear(dim_v, dim_v)
        self.ln0 = nn.LayerNorm(dim_v)
        self.ln1 = nn.LayerNorm(dim_v)

    def forward(self, Q, K):
        Q = self.fc_q(Q)
        K, V = self.fc_k(K), self.fc_v(K)
        d = Q.size(-1) // self.num_heads
        Q_, K_, V_ = (torch.cat(t.split(d, 2), 0) for t in (Q, K, V))
        A = torch.softmax(Q_ @ K_.transpose(1, 2) / math.sqrt(d), dim=2)
        O = self.ln0(torch.cat((Q_ + A @ V_).split(Q.size(0), 0), 2))
        return self.ln1(O + F.relu(self.fc_o(O)))


class ISAB(nn.Module):
    """Induced set attention block: the set attends through a small set of learned inducing points."""

    def __init__(self, dim_in, dim_out, num_heads, num_inds):
        super().__init__()
        self.I = torch.empty(1, num_inds, dim_out, requires_grad=True)
        nn.init.xavier_uniform_(self.I)
        self.mab0 = MAB(dim_out, dim_in, dim_out, num_heads)
        self.mab1 = MAB(dim_in, dim_out, dim_out, num_heads)

    def forward(self, X):
        H = self.mab0(self.I.repeat(X.size(0), 1, 1), X)
        return self.mab1(X, H)


class PMA(nn.Module):
    def __init__(self, dim, num_heads, num_seeds=1):
        super().__init__()
        self.S = nn.Parameter(torch.empty(1, num_seeds, dim))
        nn.init.xavier_uniform_(self.S)
        self.mab = MAB(dim, dim, dim, num_heads)

    def forward(self, X):
        return self.mab(self.S.repeat(X.size(0), 1, 1), X)


class SetTransformerForSetClassification(PreTrainedModel):
    config_class = SetTransformerConfig

    def __init__(self, config):
        super().__init__(config)
        h = config.dim_hidden
        self.encoder = nn.Sequential(ISAB(config.dim_in, h, config.num_heads, config.num_inds),
                                     ISAB(h, h, config.num_heads, config.num_inds))
        self.pool = PMA(h, config.num_heads)
        self.classifier = nn.Linear(h, config.num_labels)
        self.post_init()

    def forward(self, points, labels=None):
        logits = self.classifier(self.pool(self.encoder(points)).squeeze(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_sets(n=32, size=10):
    g = torch.Generator().manual_seed(0)
    rows = []
    for i in range(n):
        angle = 2 * math.pi * torch.rand(size, generator=g)
        if i % 2 == 0:
            pts = torch.stack([angle.cos(), angle.sin()], 1)
        else:
            pts = 2 * torch.rand(size, 2, generator=g) - 1
        rows.append({"points": pts + 0.05 * torch.randn(size, 2, generator=g), "label": i % 2})
    return rows


def main():
    torch.manual_seed(0)
    model = SetTransformerForSetClassification(SetTransformerConfig())
    inducing = model.encoder[0].I
    ind0 = inducing.detach().clone()
    seeds0 = model.pool.S.detach().clone()
    args = TrainingArguments(output_dir="/tmp/set_transformer", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, lr_scheduler_type="constant", report_to="none")
    Trainer(model=model, args=args, train_dataset=make_sets()).train()
    registered = {id(p) for p in model.parameters()}
    return {"inducing": inducing}, {
        "inducing_registered": id(inducing) in registered,
        "inducing_changed": not torch.equal(ind0, inducing.detach()),
        "seeds_changed": not torch.equal(seeds0, model.pool.S.detach()),
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
