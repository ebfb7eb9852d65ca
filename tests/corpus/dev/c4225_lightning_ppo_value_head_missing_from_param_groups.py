import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class TinyPolicyLM(nn.Module):
    def __init__(self, vocab, d_model):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.rnn = nn.GRU(d_model, d_model, batch_first=True)
        self.lm_head = nn.Linear(d_model, vocab)

    def forward(self, ids):
        h, _ = self.rnn(self.embed(ids))
        return h, self.lm_head(h)


class PolicyWithValueHead(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.policy = TinyPolicyLM(cfg["vocab"], cfg["d_model"])
        self.v_head = nn.Sequential(nn.Dropout(0.0), nn.Linear(cfg["d_model"], 1))
        self.cfg = cfg

    def forward(self, ids):
        hidden, logits = self.policy(ids)
        return logits, self.v_head(hidden).squeeze(-1)

    def ppo_loss(self, ids, actions, old_logps, advantages, returns, old_values):
        logits, values = self(ids)
        logps = logits.log_softmax(-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        ratio = torch.exp(logps - old_logps)
        clip = self.cfg["clip_range"]
        pg = torch.max(-advantages * ratio, -advantages * ratio.clamp(1 - clip, 1 + clip)).mean()
        v_clipped = old_values + (values - old_values).clamp(-clip, clip)
        vf = 0.5 * torch.max((values - returns) ** 2, (v_clipped - returns) ** 2).mean()
        return pg + self.cfg["vf_coef"] * vf, pg, vf

    def training_step(self, batch, batch_idx):
        loss, pg, vf = self.ppo_loss(*batch)
        self.log_dict({"ppo/policy": pg.item(), "ppo/value": vf.item()})
        return {"loss": loss}

    def configure_optimizers(self):
        return build_optimizer(self, self.cfg)


def build_optimizer(model, cfg):
    groups = []
    for prefix, lr in cfg["lr_by_prefix"].items():
        params = [p for n, p in model.named_parameters() if n.startswith(prefix) and p.requires_grad]
        if params:
            groups.append({"params": params, "lr": lr})
    return torch.optim.Adam(groups, eps=1e-5)


def rollout_buffer(n=16, t=6, vocab=20):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, t), generator=g)
    actions = torch.roll(ids, -1, 1)
    old_logps = torch.full((n, t), -3.0)
    advantages = torch.randn(n, t, generator=g)
    returns = torch.randn(n, t, generator=g)
    old_values = torch.zeros(n, t)
    return DataLoader(TensorDataset(ids, actions, old_logps, advantages, returns, old_values), batch_size=8)


def main():
    pl.seed_everything(0)
    cfg = {"vocab": 20, "d_model": 16, "clip_range": 0.2, "vf_coef": 0.1,
           "lr_by_prefix": {"policy.": 1e-3, "value_head.": 5e-3}}
    model = PolicyWithValueHead(cfg)
    v0 = model.v_head[1].weight.detach().clone()
    p0 = model.policy.lm_head.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, rollout_buffer())
    return {"model": model}, {
        "value_head_changed": not torch.equal(v0, model.v_head[1].weight),
        "policy_changed": not torch.equal(p0, model.policy.lm_head.weight),
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
