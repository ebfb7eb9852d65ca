import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments

RELATIONS = ("cites", "authored_by", "published_in")


class RGCNConfig(PretrainedConfig):
    model_type = "rgcn-link"

    def __init__(self, num_nodes=20, dim=16, **kw):
        super().__init__(**kw)
        self.num_nodes, self.dim = num_nodes, dim


class RelationalConv(nn.Module):
    def __init__(self, dim, relations):
        super().__init__()
        self.self_loop = nn.Linear(dim, dim)
        self.rel_layers = {rel: nn.Linear(dim, dim, bias=False) for rel in relations}

    def forward(self, h, edges_by_rel):
        out = self.self_loop(h)
        for rel, (src, dst) in edges_by_rel.items():
            msg = self.rel_layers[rel](h[src])
            out = out.index_add(0, dst, msg)
        return F.relu(out)


class RGCNLinkPredictor(PreTrainedModel):
    config_class = RGCNConfig
    base_model_prefix = ""

    def __init__(self, cfg, graph):
        super().__init__(cfg)
        self.node_emb = nn.Embedding(cfg.num_nodes, cfg.dim)
        self.conv1 = RelationalConv(cfg.dim, RELATIONS)
        self.conv2 = RelationalConv(cfg.dim, RELATIONS)
        self.rel_diag = nn.Parameter(torch.ones(len(RELATIONS), cfg.dim))
        self.graph = graph

    def forward(self, head, rel, tail, labels=None):
        h = self.node_emb.weight
        h = self.conv2(self.conv1(h, self.graph), self.graph)
        score = (h[head] * self.rel_diag[rel] * h[tail]).sum(-1)
        loss = F.binary_cross_entropy_with_logits(score, labels.float()) if labels is not None else None
        return {"loss": loss, "logits": score}


class TripleDataset(torch.utils.data.Dataset):
    def __init__(self, n=24, num_nodes=20):
        g = torch.Generator().manual_seed(0)
        self.h = torch.randint(0, num_nodes, (n,), generator=g)
        self.r = torch.randint(0, len(RELATIONS), (n,), generator=g)
        self.t = torch.randint(0, num_nodes, (n,), generator=g)
        self.y = (torch.rand(n, generator=g) > 0.5).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"head": self.h[i], "rel": self.r[i], "tail": self.t[i], "labels": self.y[i]}


def build_graph(num_nodes=20, edges_per_rel=15):
    g = torch.Generator().manual_seed(1)
    return {rel: (torch.randint(0, num_nodes, (edges_per_rel,), generator=g),
                  torch.randint(0, num_nodes, (edges_per_rel,), generator=g)) for rel in RELATIONS}


def main():
    torch.manual_seed(0)
    model = RGCNLinkPredictor(RGCNConfig(), build_graph())
    cites = model.conv1.rel_layers["cites"]
    before = cites.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/c2524", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to=[])
    Trainer(model=model, args=args, train_dataset=TripleDataset()).train()
    batch = TripleDataset()[0:8]
    model(batch["head"], batch["rel"], batch["tail"], batch["labels"])["loss"].backward()
    changed = not torch.equal(before, cites.weight)
    return {"conv1.cites": cites, "conv1.self_loop": model.conv1.self_loop}, {"relation_weight_changed": changed}

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
