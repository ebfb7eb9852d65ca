import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments


class TransEConfig(PretrainedConfig):
    model_type = "transe"

    def __init__(self, n_entities=20, n_relations=4, dim=8, margin=1.0, **kwargs):
        super().__init__(**kwargs)
        self.n_entities = n_entities
        self.n_relations = n_relations
        self.dim = dim
        self.margin = margin


class TransEModel(PreTrainedModel):
    config_class = TransEConfig

    def __init__(self, config):
        super().__init__(config)
        self.entity = nn.Embedding(config.n_entities, config.dim)
        self.relation = nn.Embedding(config.n_relations, config.dim)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Embedding):
            bound = 6 / module.embedding_dim ** 0.5
            nn.init.uniform_(module.weight, -bound, bound)

    def score(self, h, r, t):
        return (self.entity(h) + self.relation(r) - self.entity(t)).norm(p=1, dim=-1)

    def forward(self, head, relation, tail, neg_tail):
        pos = self.score(head, relation, tail)
        neg = self.score(head, relation, neg_tail)
        return {"loss": F.relu(self.config.margin + pos - neg).mean(), "pos_score": pos}


class EntityNormCallback(TrainerCallback):
    """TransE constrains entity embeddings to the unit sphere before every mini-batch (Algorithm 1, line 5)."""

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        with torch.no_grad():
            model.entity.weight.data = F.normalize(model.entity.weight.data, p=2, dim=-1)


def make_triples(n_entities=20, n_relations=4, n=64):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        h = int(torch.randint(0, n_entities, (1,), generator=g))
        r = int(torch.randint(0, n_relations, (1,), generator=g))
        rows.append({"head": h, "relation": r, "tail": (h + r + 1) % n_entities,
                     "neg_tail": int(torch.randint(0, n_entities, (1,), generator=g))})
    return rows


def main():
    torch.manual_seed(0)
    model = TransEModel(TransEConfig())
    ent0 = model.entity.weight.detach().clone()
    rel0 = model.relation.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/transe", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=1e-2, lr_scheduler_type="linear", report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=make_triples(), callbacks=[EntityNormCallback()])
    trainer.train()
    return {"model": model}, {
        "entity_directions_changed": not torch.allclose(F.normalize(ent0, dim=-1),
                                                        F.normalize(model.entity.weight.detach(), dim=-1), atol=1e-4),
        "relations_changed": not torch.equal(rel0, model.relation.weight.detach()),
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
