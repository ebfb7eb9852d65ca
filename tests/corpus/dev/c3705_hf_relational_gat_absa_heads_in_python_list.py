import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class RGATConfig(PretrainedConfig):
    model_type = "rgat_absa"

    def __init__(self, vocab_size=40, hidden_size=16, num_heads=2, num_relations=5, num_labels=3, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.num_relations = num_relations


class RelationalAttentionHead(nn.Module):
    """One head of relational graph attention over the dependency tree, pooled at the aspect term."""

    def __init__(self, hidden, num_relations):
        super().__init__()
        self.rel_embed = nn.Embedding(num_relations, hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.score = nn.Linear(2 * hidden, 1)

    def forward(self, h, rel_ids, aspect_mask):
        aspect = (h * aspect_mask.unsqueeze(-1)).sum(1) / aspect_mask.sum(1, keepdim=True).clamp(min=1)
        keys = self.proj(h) + self.rel_embed(rel_ids)
        att = self.score(torch.cat([keys, aspect.unsqueeze(1).expand_as(keys)], dim=-1)).squeeze(-1)
        alpha = torch.softmax(att, dim=-1)
        return torch.tanh((alpha.unsqueeze(-1) * keys).sum(1))


class RGATForAspectSentiment(PreTrainedModel):
    config_class = RGATConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.gat_dep = [RelationalAttentionHead(config.hidden_size, config.num_relations) for _ in range(config.num_heads)]
        self.classifier = nn.Linear(config.hidden_size * (config.num_heads + 1), config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.1)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids, rel_ids, aspect_mask, labels=None):
        h = self.embed(input_ids)
        pooled = (h * aspect_mask.unsqueeze(-1)).sum(1) / aspect_mask.sum(1, keepdim=True).clamp(min=1)
        heads = [head(h, rel_ids, aspect_mask) for head in self.gat_dep]
        logits = self.classifier(torch.cat([pooled] + heads, dim=-1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=24, seq=7):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 40, (seq,), generator=g)
        rels = torch.randint(0, 5, (seq,), generator=g)
        mask = torch.zeros(seq)
        mask[torch.randint(0, seq, (1,), generator=g)] = 1.0
        rows.append({"input_ids": ids, "rel_ids": rels, "aspect_mask": mask, "label": int(ids[0]) % 3})
    return rows


def main():
    torch.manual_seed(0)
    model = RGATForAspectSentiment(RGATConfig())
    head0 = model.gat_dep[0].proj.weight.detach().clone()
    cls0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/rgat", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, lr_scheduler_type="constant", report_to="none")
    Trainer(model=model, args=args, train_dataset=make_dataset()).train()
    registered = {id(p) for p in model.parameters()}
    return {"classifier": model.classifier}, {
        "heads_registered": id(model.gat_dep[0].proj.weight) in registered,
        "head_changed": not torch.equal(head0, model.gat_dep[0].proj.weight),
        "classifier_changed": not torch.equal(cls0, model.classifier.weight),
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
