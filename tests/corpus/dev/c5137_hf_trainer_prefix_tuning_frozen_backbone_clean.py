import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class TinyEncoderConfig(PretrainedConfig):
    model_type = "tiny-encoder"

    def __init__(self, vocab_size=60, hidden=32, heads=4, layers=2, **kw):
        super().__init__(**kw)
        self.vocab_size, self.hidden, self.heads, self.layers = vocab_size, hidden, heads, layers


class TinyEncoder(PreTrainedModel):
    config_class = TinyEncoderConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden)
        self.blocks = nn.ModuleList([nn.TransformerEncoderLayer(config.hidden, config.heads, 64, dropout=0.0,
                                                                batch_first=True) for _ in range(config.layers)])
        self.post_init()

    def forward(self, h):
        for blk in self.blocks:
            h = blk(h)
        return h


class PrefixTuningClassifier(PreTrainedModel):
    config_class = TinyEncoderConfig

    def __init__(self, config, backbone, n_prefix=4):
        super().__init__(config)
        self.backbone = backbone
        self.backbone.requires_grad_(False)
        self.prefix = nn.Parameter(torch.randn(n_prefix, config.hidden) * 0.02)
        self.prefix_mlp = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.Tanh())
        self.classifier = nn.Linear(config.hidden, config.num_labels)

    def forward(self, input_ids, labels=None):
        tok = self.backbone.embed(input_ids)
        pre = self.prefix_mlp(self.prefix).unsqueeze(0).expand(tok.size(0), -1, -1)
        h = self.backbone(torch.cat([pre, tok], 1))
        logits = self.classifier(h[:, : self.prefix.size(0)].mean(1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_dataset(n=48, seq=8):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 60, (n, seq), generator=g)
    return [{"input_ids": ids[i], "label": int(ids[i].sum() % 2)} for i in range(n)]


def main():
    torch.manual_seed(0)
    cfg = TinyEncoderConfig(num_labels=2)
    model = PrefixTuningClassifier(cfg, TinyEncoder(cfg))
    prefix0 = model.prefix.detach().clone()
    base0 = model.backbone.blocks[0].linear1.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=1,
                             learning_rate=1e-2, warmup_ratio=0.1, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=make_dataset())
    trainer.train()
    batch = trainer.data_collator(make_dataset()[:8])
    model(**batch).loss.backward()
    return {"model": model}, {
        "prefix_changed": not torch.equal(prefix0, model.prefix),
        "backbone_changed": not torch.equal(base0, model.backbone.blocks[0].linear1.weight),
        "n_trainable_tensors": sum(p.requires_grad for p in model.parameters()),
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
