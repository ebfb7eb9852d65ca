import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class GraphormerConfig(PretrainedConfig):
    model_type = "tiny-graphormer"

    def __init__(self, node_dim=6, hidden=16, heads=2, layers=2, edge_types=4, **kwargs):
        super().__init__(**kwargs)
        self.node_dim, self.hidden, self.heads = node_dim, hidden, heads
        self.layers, self.edge_types = layers, edge_types


class EdgeBiasEncoder(nn.Module):
    """One learned attention bias per (edge type, head), as in Graphormer's edge encoding."""

    def __init__(self, edge_types, heads):
        super().__init__()
        self.table = nn.Embedding(edge_types, heads)

    def forward(self, edge_type):  # (B, N, N) -> (B, H, N, N)
        return self.table(edge_type).permute(0, 3, 1, 2)


class GraphAttentionLayer(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ff = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))

    def forward(self, x, bias):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5 + bias
        h = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.out(h)
        return x + self.ff(x)


class GraphormerForGraphClassification(PreTrainedModel):
    config_class = GraphormerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Linear(config.node_dim, config.hidden)
        self.layers = nn.ModuleList([GraphAttentionLayer(config.hidden, config.heads) for _ in range(config.layers)])
        self.edge_encoders = [EdgeBiasEncoder(config.edge_types, config.heads) for _ in range(config.layers)]
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, node_feats, edge_type, labels=None):
        x = self.embed(node_feats)
        for layer, edge_enc in zip(self.layers, self.edge_encoders):
            x = layer(x, edge_enc(edge_type))
        logits = self.classifier(x.mean(dim=1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class MoleculeGraphs(torch.utils.data.Dataset):
    def __init__(self, n=32, nodes=7, node_dim=6, edge_types=4):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, nodes, node_dim, generator=g)
        self.e = torch.randint(0, edge_types, (n, nodes, nodes), generator=g)
        self.y = (self.e.float().mean(dim=(1, 2)) > (edge_types - 1) / 2).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"node_feats": self.x[i], "edge_type": self.e[i], "label": int(self.y[i])}


def build_trainer(model, train_ds, cfg):
    args = TrainingArguments(output_dir="out-graphormer", per_device_train_batch_size=cfg["batch_size"],
                             learning_rate=cfg["lr"], num_train_epochs=cfg["epochs"], weight_decay=0.01,
                             report_to=[], save_strategy="no", logging_steps=5)
    return Trainer(model=model, args=args, train_dataset=train_ds)


def main():
    torch.manual_seed(0)
    cfg = {"batch_size": 8, "lr": 3e-3, "epochs": 2}
    model = GraphormerForGraphClassification(GraphormerConfig(num_labels=2))
    edge0 = model.edge_encoders[0].table.weight.detach().clone()
    qkv0 = model.layers[0].qkv.weight.detach().clone()
    build_trainer(model, MoleculeGraphs(), cfg).train()
    return {"model": model}, {
        "edge_bias_changed": not torch.equal(edge0, model.edge_encoders[0].table.weight),
        "attention_changed": not torch.equal(qkv0, model.layers[0].qkv.weight),
        "n_trainable_tensors": sum(1 for _ in model.parameters()),
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
