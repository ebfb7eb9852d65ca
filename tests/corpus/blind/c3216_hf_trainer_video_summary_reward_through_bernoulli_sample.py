import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class SummConfig(PretrainedConfig):
    model_type = "dsn"

    def __init__(self, feat_dim=12, hidden=8, **kw):
        super().__init__(**kw)
        self.feat_dim, self.hidden = feat_dim, hidden


class FrameScorer(PreTrainedModel):
    config_class = SummConfig

    def __init__(self, config):
        super().__init__(config)
        self.frame_rnn = nn.GRU(config.feat_dim, config.hidden, batch_first=True, bidirectional=True)
        self.scorer = nn.Linear(2 * config.hidden, 1)
        self.post_init()

    def forward(self, features):
        h, _ = self.frame_rnn(features)
        return ModelOutput(probs=torch.sigmoid(self.scorer(h)).squeeze(-1))


def diversity_representativeness(features, actions):
    sel = actions.unsqueeze(-1)
    feats = F.normalize(features, dim=-1)
    picked = feats * sel
    div = 1 - (picked @ picked.transpose(1, 2)).sum((1, 2)) / (sel.sum((1, 2)) ** 2 + 1e-6)
    dist = torch.cdist(feats, picked + (1 - sel) * 1e3)
    rep = torch.exp(-dist.min(-1).values.mean(-1))
    return div + rep


class SummaryTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        feats = inputs["features"]
        probs = model(features=feats).probs
        actions = torch.bernoulli(probs)
        reward = diversity_representativeness(feats, actions)
        loss = -reward.mean()
        return (loss, {"probs": probs}) if return_outputs else loss


class Videos(Dataset):
    def __init__(self, n=8, frames=10):
        g = torch.Generator().manual_seed(0)
        self.feats = torch.randn(n, frames, 12, generator=g)

    def __len__(self):
        return len(self.feats)

    def __getitem__(self, i):
        return {"features": self.feats[i]}


def main():
    torch.manual_seed(0)
    model = FrameScorer(SummConfig())
    s0 = model.scorer.weight.detach().clone()
    grads = {}

    class Probe(SummaryTrainer):
        def training_step(self, model, inputs, num_items_in_batch=None):
            out = super().training_step(model, inputs, num_items_in_batch)
            grads.update({n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None})
            return out

    args = TrainingArguments(output_dir="/tmp/c3216_out", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-3, report_to="none")
    Probe(model=model, args=args, train_dataset=Videos()).train()
    for n, p in model.named_parameters():
        p.grad = grads.get(n)
    return {"model": model}, {"scorer_changed": not torch.equal(s0, model.scorer.weight)}

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
