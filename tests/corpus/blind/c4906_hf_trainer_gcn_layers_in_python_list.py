import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class GCNConfig(PretrainedConfig):
    model_type = "gcn"

    def __init__(self, in_dim=6, hidden=16, n_layers=2, **kw):
        super().__init__(**kw)
        self.in_dim, self.hidden, self.n_layers = in_dim, hidden, n_layers


class GCNLayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)

    def forward(self, x, a_hat):
        return F.relu(a_hat @ self.lin(x))


class GCNForGraphClassification(PreTrainedModel):
    config_class = GCNConfig

    def __init__(self, config):
        super().__init__(config)
        dims = [config.in_dim] + [config.hidden] * config.n_layers
        self.gcn_layers = [GCNLayer(a, b) for a, b in zip(dims[:-1], dims[1:])]
        self.classifier = nn.Linear(config.hidden, config.num_labels)

    def forward(self, x=None, adj=None, labels=None):
        deg = adj.sum(-1)
        a_hat = adj / torch.sqrt(deg.unsqueeze(-1) * deg.unsqueeze(-2))
        for layer in self.gcn_layers:
            x = layer(x, a_hat)
        logits = self.classifier(x.mean(1))
        return SequenceClassifierOutput(loss=F.cross_entropy(logits, labels), logits=logits)


class GraphData(Dataset):
    def __init__(self, n=48, nodes=8, in_dim=6):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, 2, (n,), generator=g)
        p = 0.2 + 0.5 * self.labels.float()
        adj = (torch.rand(n, nodes, nodes, generator=g) < p[:, None, None]).float()
        self.adj = ((adj + adj.transpose(1, 2) + torch.eye(nodes)) > 0).float()
        self.x = torch.randn(n, nodes, in_dim, generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"x": self.x[i], "adj": self.adj[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = GCNForGraphClassification(GCNConfig(num_labels=2))
    gcn0, head0 = model.gcn_layers[0].lin.weight.detach().clone(), model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=2, learning_rate=1e-2, report_to="none")
    Trainer(model=model, args=args, train_dataset=GraphData()).train()
    return {"model": model}, {"gcn_changed": not torch.equal(gcn0, model.gcn_layers[0].lin.weight),
                              "classifier_changed": not torch.equal(head0, model.classifier.weight)}

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
