import copy
import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = {"vocab": 32, "d": 24, "beta": 0.1, "lr": 3e-3, "weight_decay": 0.0, "epochs": 3, "batch": 8,
          "prompt_len": 5, "resp_len": 5, "label_smoothing": 0.0}


class TinyLM(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.mix = nn.Conv1d(d, d, 3, padding=2)
        self.lm_head = nn.Linear(d, vocab)

    def forward(self, ids):
        h = self.embed(ids).transpose(1, 2)
        h = F.gelu(self.mix(h)[..., : ids.size(1)]).transpose(1, 2)
        return self.lm_head(h)


def response_logps(model, ids, prompt_len):
    logits = model(ids[:, :-1])
    lp = torch.gather(F.log_softmax(logits, -1), 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return lp[:, prompt_len - 1:].sum(-1)


class DPOTrainer:
    def __init__(self, policy, cfg):
        self.cfg = cfg
        self.policy = policy
        self.ref_model = copy.deepcopy(policy).eval()
        for p in self.ref_model.parameters():
            p.requires_grad_(False)
        self.optimizer = self.build_optimizer(self.ref_model)
        self.metrics = []

    def build_optimizer(self, model):
        decay = [p for n, p in model.named_parameters() if p.ndim > 1]
        no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
        return torch.optim.AdamW([{"params": decay, "weight_decay": self.cfg["weight_decay"]},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=self.cfg["lr"])

    def dpo_loss(self, chosen, rejected):
        pl = self.cfg["prompt_len"]
        pi_c, pi_r = response_logps(self.policy, chosen, pl), response_logps(self.policy, rejected, pl)
        with torch.no_grad():
            ref_c, ref_r = response_logps(self.ref_model, chosen, pl), response_logps(self.ref_model, rejected, pl)
        logits = self.cfg["beta"] * ((pi_c - ref_c) - (pi_r - ref_r))
        eps = self.cfg["label_smoothing"]
        loss = -(1 - eps) * F.logsigmoid(logits) - eps * F.logsigmoid(-logits)
        return loss.mean(), (logits > 0).float().mean()

    def train_epoch(self, chosen, rejected, g):
        self.policy.train()
        perm = torch.randperm(len(chosen), generator=g)
        for start in range(0, len(chosen), self.cfg["batch"]):
            idx = perm[start:start + self.cfg["batch"]]
            loss, acc = self.dpo_loss(chosen[idx], rejected[idx])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.metrics.append({"loss": loss.item(), "reward_acc": acc.item()})

    def train(self, chosen, rejected):
        g = torch.Generator().manual_seed(0)
        for epoch in range(self.cfg["epochs"]):
            self.train_epoch(chosen, rejected, g)
        return self.metrics


def make_pairs(cfg, n=24):
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(0, cfg["vocab"], (n, cfg["prompt_len"]), generator=g)
    chosen = torch.cat([prompts, prompts.flip(1)[:, : cfg["resp_len"]]], 1)
    rejected = torch.cat([prompts, torch.randint(0, cfg["vocab"], (n, cfg["resp_len"]), generator=g)], 1)
    return chosen, rejected


def main():
    torch.manual_seed(0)
    policy = TinyLM(CONFIG["vocab"], CONFIG["d"])
    trainer = DPOTrainer(policy, CONFIG)
    pol0 = policy.lm_head.weight.detach().clone()
    ref0 = trainer.ref_model.lm_head.weight.detach().clone()
    chosen, rejected = make_pairs(CONFIG)
    trainer.train(chosen, rejected)
    return {"policy": policy}, {
        "policy_changed": not torch.equal(pol0, policy.lm_head.weight),
        "reference_changed": not torch.equal(ref0, trainer.ref_model.lm_head.weight),
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
