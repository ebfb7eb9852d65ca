import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, SequenceClassifierOutput, Trainer, TrainingArguments


class ABMILConfig(PretrainedConfig):
    model_type = "abmil"

    def __init__(self, feat_dim=20, hidden=16, num_labels=2, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.feat_dim, self.hidden = feat_dim, hidden


class AttentionMIL(PreTrainedModel):
    """Attention-based multiple-instance learning over a padded bag of tile features."""

    config_class = ABMILConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Sequential(nn.Linear(config.feat_dim, config.hidden), nn.ReLU())
        self.attention = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.Tanh(), nn.Linear(config.hidden, 1))
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def forward(self, tiles=None, tile_mask=None, labels=None):
        h = self.encoder(tiles)
        scores = self.attention(h).squeeze(-1)
        scores.masked_fill_(~tile_mask.bool(), float("-inf"))
        weights = torch.softmax(scores, dim=1)
        bag = (weights.unsqueeze(-1) * h).sum(dim=1)
        logits = self.classifier(bag)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_bags(n=32, max_tiles=10):
    g = torch.Generator().manual_seed(103)
    rows = []
    for _ in range(n):
        k = int(torch.randint(3, max_tiles + 1, (1,), generator=g))
        label = int(torch.randint(0, 2, (1,), generator=g))
        tiles = torch.zeros(max_tiles, 20)
        tiles[:k] = torch.randn(k, 20, generator=g)
        if label:
            tiles[0, :4] += 2.0
        mask = torch.zeros(max_tiles, dtype=torch.long)
        mask[:k] = 1
        rows.append({"tiles": tiles, "tile_mask": mask, "labels": label})
    return rows


def main():
    torch.manual_seed(0)
    model = AttentionMIL(ABMILConfig())
    snap = {k: v.detach().clone() for k, v in model.state_dict().items()}
    args = TrainingArguments(output_dir="tmp_abmil", num_train_epochs=2, per_device_train_batch_size=8,
                             learning_rate=5e-3, report_to="none", seed=0)
    Trainer(model=model, args=args, train_dataset=make_bags()).train()
    changed = lambda k: not torch.equal(snap[k], model.state_dict()[k])
    return {"model": model}, {"attention_changed": changed("attention.0.weight"),
                              "encoder_changed": changed("encoder.0.weight"),
                              "classifier_changed": changed("classifier.weight")}

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
