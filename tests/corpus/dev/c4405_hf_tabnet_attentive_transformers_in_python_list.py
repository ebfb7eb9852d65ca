import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class TabNetConfig(PretrainedConfig):
    model_type = "tabnet"

    def __init__(self, n_features=10, n_d=8, n_a=8, n_steps=3, gamma=1.3, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.n_features, self.n_d, self.n_a = n_features, n_d, n_a
        self.n_steps, self.gamma = n_steps, gamma


class GLUBlock(nn.Module):
    def __init__(self, inp, out):
        super().__init__()
        self.fc = nn.Linear(inp, 2 * out)
        self.bn = nn.BatchNorm1d(2 * out)

    def forward(self, x):
        return F.glu(self.bn(self.fc(x)), dim=-1)


class FeatureTransformer(nn.Module):
    def __init__(self, shared, inp, out):
        super().__init__()
        self.shared = shared
        self.step = GLUBlock(out, out)

    def forward(self, x):
        h = self.shared(x)
        return (h + self.step(h)) * 0.5 ** 0.5


class AttentiveTransformer(nn.Module):
    def __init__(self, n_a, n_features):
        super().__init__()
        self.fc = nn.Linear(n_a, n_features)
        self.bn = nn.BatchNorm1d(n_features)

    def forward(self, a, prior):
        return torch.softmax(self.bn(self.fc(a)) * prior, dim=-1)


class TabNetForClassification(PreTrainedModel):
    config_class = TabNetConfig

    def __init__(self, config):
        super().__init__(config)
        nf, nd, na = config.n_features, config.n_d, config.n_a
        self.initial_bn = nn.BatchNorm1d(nf)
        shared = GLUBlock(nf, nd + na)
        self.initial_split = FeatureTransformer(shared, nf, nd + na)
        self.feat_transformers = nn.ModuleList(
            [FeatureTransformer(shared, nf, nd + na) for _ in range(config.n_steps)])
        self.att_transformers = [AttentiveTransformer(na, nf) for _ in range(config.n_steps)]
        self.classifier = nn.Linear(nd, config.num_labels)
        self.post_init()

    def forward(self, features, labels=None):
        cfg = self.config
        x = self.initial_bn(features)
        prior = torch.ones_like(x)
        att = self.initial_split(x)[:, cfg.n_d:]
        out, entropy = 0.0, 0.0
        for step in range(cfg.n_steps):
            mask = self.att_transformers[step](att, prior)
            entropy = entropy + (-mask * torch.log(mask + 1e-10)).sum(-1).mean()
            prior = prior * (cfg.gamma - mask)
            h = self.feat_transformers[step](x * mask)
            out = out + F.relu(h[:, :cfg.n_d])
            att = h[:, cfg.n_d:]
        logits = self.classifier(out)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels) + 1e-3 * entropy / cfg.n_steps
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TabularDataset(torch.utils.data.Dataset):
    def __init__(self, n=64, n_features=10):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, n_features, generator=g)
        self.y = (self.x[:, 0] + self.x[:, 3] > 0).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"features": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = TabNetForClassification(TabNetConfig())
    att0 = model.att_transformers[0].fc.weight.detach().clone()
    ft0 = model.feat_transformers[0].step.fc.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/tabnet", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=2e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=TabularDataset()).train()
    return {"model": model}, {
        "attentive_changed": not torch.equal(att0, model.att_transformers[0].fc.weight),
        "feature_transformer_changed": not torch.equal(ft0, model.feat_transformers[0].step.fc.weight),
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
