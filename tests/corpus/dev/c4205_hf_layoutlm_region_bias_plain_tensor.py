import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import TokenClassifierOutput


class LayoutConfig(PretrainedConfig):
    model_type = "tiny_layoutlm"

    def __init__(self, vocab_size=40, hidden_size=16, max_2d=32, num_regions=4, num_labels=5, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.max_2d, self.num_regions = max_2d, num_regions


class LayoutEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word = nn.Embedding(config.vocab_size, config.hidden_size)
        self.x_pos = nn.Embedding(config.max_2d, config.hidden_size)
        self.y_pos = nn.Embedding(config.max_2d, config.hidden_size)
        self.region_bias = torch.zeros(config.num_regions, config.hidden_size, requires_grad=True)
        self.norm = nn.LayerNorm(config.hidden_size)

    def forward(self, input_ids, bbox, region_ids):
        spatial = self.x_pos(bbox[..., 0]) + self.y_pos(bbox[..., 1]) + self.x_pos(bbox[..., 2]) + self.y_pos(bbox[..., 3])
        return self.norm(self.word(input_ids) + spatial + self.region_bias[region_ids])


class TinyLayoutLMForTokenClassification(PreTrainedModel):
    config_class = LayoutConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = LayoutEmbeddings(config)
        layer = nn.TransformerEncoderLayer(config.hidden_size, 2, 2 * config.hidden_size, batch_first=True, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Embedding):
            module.weight.data.normal_(0.0, 0.02)

    def forward(self, input_ids=None, bbox=None, region_ids=None, labels=None):
        hidden = self.encoder(self.embeddings(input_ids, bbox, region_ids))
        logits = self.classifier(hidden)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.config.num_labels), labels.view(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


def funsd_like(n=24, seq=6, cfg=None):
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        region = torch.randint(0, cfg.num_regions, (seq,), generator=g)
        x0 = torch.randint(0, cfg.max_2d // 2, (seq,), generator=g)
        y0 = torch.randint(0, cfg.max_2d // 2, (seq,), generator=g)
        bbox = torch.stack([x0, y0, x0 + 4, y0 + 2], -1)
        rows.append({"input_ids": torch.randint(0, cfg.vocab_size, (seq,), generator=g), "bbox": bbox,
                     "region_ids": region, "labels": (region + 1) % cfg.num_labels})
    return rows


def build_trainer(model, train_rows, out_dir):
    args = TrainingArguments(output_dir=out_dir, per_device_train_batch_size=8, num_train_epochs=3,
                             learning_rate=5e-3, weight_decay=0.01, warmup_ratio=0.1, report_to="none")
    return Trainer(model=model, args=args, train_dataset=train_rows)


def main():
    torch.manual_seed(0)
    cfg = LayoutConfig()
    model = TinyLayoutLMForTokenClassification(cfg)
    bias0 = model.embeddings.region_bias.detach().clone()
    word0 = model.embeddings.word.weight.detach().clone()
    trainer = build_trainer(model, funsd_like(cfg=cfg), "/tmp/layoutlm_ft")
    trainer.train()
    return {"model": model}, {
        "region_bias_changed": not torch.equal(bias0, model.embeddings.region_bias),
        "word_embeddings_changed": not torch.equal(word0, model.embeddings.word.weight),
        "region_bias_in_optimizer": any(p is model.embeddings.region_bias
                                        for grp in trainer.optimizer.param_groups for p in grp["params"]),
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
