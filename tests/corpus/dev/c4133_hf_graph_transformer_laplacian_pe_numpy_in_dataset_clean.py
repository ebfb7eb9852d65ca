import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


def laplacian_positional_encoding(adj, k):
    """k smallest non-trivial eigenvectors of the normalized Laplacian (precomputed per graph)."""
    deg = adj.sum(1).clip(1)
    d_inv_sqrt = np.diag(deg ** -0.5)
    lap = np.eye(adj.shape[0]) - d_inv_sqrt @ adj @ d_inv_sqrt
    eigval, eigvec = np.linalg.eigh(lap)
    idx = eigval.argsort()
    return torch.from_numpy(np.real(eigvec[:, idx][:, 1 : k + 1])).float()


class GTConfig(PretrainedConfig):
    model_type = "graph-transformer"

    def __init__(self, node_dim=5, pe_dim=3, hidden=16, layers=2, **kwargs):
        super().__init__(**kwargs)
        self.node_dim, self.pe_dim, self.hidden, self.layers = node_dim, pe_dim, hidden, layers


class GraphTransformerForClassification(PreTrainedModel):
    config_class = GTConfig

    def __init__(self, config):
        super().__init__(config)
        self.node_in = nn.Linear(config.node_dim, config.hidden)
        self.pe_in = nn.Linear(config.pe_dim, config.hidden)
        layer = nn.TransformerEncoderLayer(config.hidden, 2, 2 * config.hidden, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.layers)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, node_feats, lap_pe, attn_mask, labels=None):
        if self.training:  # eigenvector sign ambiguity: random sign flip per graph
            sign = torch.randint(0, 2, (lap_pe.size(0), 1, lap_pe.size(2))).float() * 2 - 1
            lap_pe = lap_pe * sign
        h = self.node_in(node_feats) + self.pe_in(lap_pe)
        h = self.encoder(h, src_key_padding_mask=~attn_mask.bool())
        pooled = (h * attn_mask[..., None]).sum(1) / attn_mask.sum(1, keepdim=True)
        logits = self.classifier(pooled)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class RingAndChainGraphs(torch.utils.data.Dataset):
    def __init__(self, n=32, nodes=8, node_dim=5, k=3):
        rng = np.random.default_rng(0)
        self.items = []
        for i in range(n):
            adj = np.zeros((nodes, nodes))
            for j in range(nodes - 1):
                adj[j, j + 1] = adj[j + 1, j] = 1
            if i % 2:
                adj[0, -1] = adj[-1, 0] = 1
            self.items.append({"node_feats": torch.from_numpy(rng.normal(size=(nodes, node_dim))).float(),
                               "lap_pe": laplacian_positional_encoding(adj, k),
                               "attn_mask": torch.ones(nodes), "label": i % 2})

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def main():
    torch.manual_seed(0)
    model = GraphTransformerForClassification(GTConfig(num_labels=2))
    pe0 = model.pe_in.weight.detach().clone()
    enc0 = model.encoder.layers[0].linear1.weight.detach().clone()
    args = TrainingArguments(output_dir="out-gt", per_device_train_batch_size=8, learning_rate=3e-3,
                             num_train_epochs=2, report_to=[], save_strategy="no")
    Trainer(model=model, args=args, train_dataset=RingAndChainGraphs()).train()
    return {"model": model}, {
        "pe_projection_changed": not torch.equal(pe0, model.pe_in.weight),
        "encoder_changed": not torch.equal(enc0, model.encoder.layers[0].linear1.weight),
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
