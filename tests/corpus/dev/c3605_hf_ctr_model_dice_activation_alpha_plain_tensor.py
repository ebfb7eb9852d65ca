import torch
import torch.nn as nn
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class CTRConfig(PretrainedConfig):
    model_type = "din-ctr"

    def __init__(self, n_items=50, emb_dim=8, hidden=16, **kwargs):
        self.n_items = n_items
        self.emb_dim = emb_dim
        self.hidden = hidden
        super().__init__(**kwargs)


class Dice(nn.Module):
    """Data-adaptive activation from DIN: p(x) * x + alpha * (1 - p(x)) * x."""

    def __init__(self, emb_size, epsilon=1e-8):
        super().__init__()
        self.bn = nn.BatchNorm1d(emb_size, eps=epsilon)
        self.sigmoid = nn.Sigmoid()
        self.alpha = torch.zeros((emb_size,))

    def forward(self, x):
        p = self.sigmoid(self.bn(x))
        return self.alpha * (1 - p) * x + p * x


class InterestTower(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc1 = nn.Linear(3 * config.emb_dim, config.hidden)
        self.act = Dice(config.hidden)
        self.fc2 = nn.Linear(config.hidden, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))).squeeze(-1)


class DeepInterestCTR(PreTrainedModel):
    config_class = CTRConfig

    def __init__(self, config):
        super().__init__(config)
        self.item_emb = nn.Embedding(config.n_items, config.emb_dim)
        self.tower = InterestTower(config)
        self.post_init()

    def forward(self, history_ids, target_id, labels=None):
        hist = self.item_emb(history_ids).mean(1)
        tgt = self.item_emb(target_id)
        logits = self.tower(torch.cat([hist, tgt, hist * tgt], dim=-1))
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels.float()) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def make_clicks(n=64, hist_len=5, n_items=50):
    g = torch.Generator().manual_seed(1)
    rows = []
    for _ in range(n):
        hist = torch.randint(0, n_items, (hist_len,), generator=g)
        tgt = torch.randint(0, n_items, (), generator=g)
        rows.append({"history_ids": hist, "target_id": tgt, "labels": int((hist % 2 == tgt % 2).sum() > 2)})
    return rows


def main():
    torch.manual_seed(0)
    model = DeepInterestCTR(CTRConfig())
    args = TrainingArguments(output_dir="ctr_out", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=1e-2, report_to=[])
    trainer = Trainer(model=model, args=args, train_dataset=make_clicks())
    alpha0 = model.tower.act.alpha.clone()
    fc0 = model.tower.fc1.weight.detach().clone()
    trainer.train()
    alpha = model.tower.act.alpha
    return {"model": model}, {
        "dice_alpha_changed": not torch.equal(alpha0, alpha),
        "dice_alpha_is_parameter": any(p is alpha for p in model.parameters()),
        "tower_changed": not torch.equal(fc0, model.tower.fc1.weight),
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
