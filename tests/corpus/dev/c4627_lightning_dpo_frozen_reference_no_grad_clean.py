import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

DPO_CFG = {"vocab": 40, "d": 32, "prompt_len": 6, "resp_len": 6, "beta": 0.1, "lr": 2e-3, "epochs": 2}


class TinyCausalLM(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.block = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.rnn = nn.GRU(d, d, batch_first=True)
        self.lm_head = nn.Linear(d, vocab)

    def forward(self, ids):
        h = self.embed(ids)
        h = h + self.block(h)
        h, _ = self.rnn(h)
        return self.lm_head(h)


def sequence_logps(model, ids, response_mask):
    """Sum of log p(token) over the response tokens (teacher forcing)."""
    logits = model(ids[:, :-1])
    logps = torch.gather(F.log_softmax(logits, -1), 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (logps * response_mask[:, 1:]).sum(-1)


class DPOModule(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.policy = TinyCausalLM(cfg["vocab"], cfg["d"])
        self.reference = copy.deepcopy(self.policy)
        self.reference.requires_grad_(False)
        self.reference.eval()

    def training_step(self, batch, batch_idx):
        chosen, rejected, mask = batch
        pi_c = sequence_logps(self.policy, chosen, mask)
        pi_r = sequence_logps(self.policy, rejected, mask)
        with torch.no_grad():
            ref_c = sequence_logps(self.reference, chosen, mask)
            ref_r = sequence_logps(self.reference, rejected, mask)
        logits = self.cfg["beta"] * ((pi_c - ref_c) - (pi_r - ref_r))
        loss = -F.logsigmoid(logits).mean()
        chosen_reward = self.cfg["beta"] * (pi_c - ref_c).detach()
        rejected_reward = self.cfg["beta"] * (pi_r - ref_r).detach()
        self.log_dict({"loss": loss.item(), "reward_margin": (chosen_reward - rejected_reward).mean().item(),
                       "reward_acc": (chosen_reward > rejected_reward).float().mean().item()})
        return loss

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.policy.parameters(), lr=self.cfg["lr"], weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=4)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def preference_pairs(cfg, n=24):
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(0, cfg["vocab"], (n, cfg["prompt_len"]), generator=g)
    good = (prompts[:, -cfg["resp_len"]:] + 1) % cfg["vocab"]          # preferred: continue the pattern
    bad = torch.randint(0, cfg["vocab"], (n, cfg["resp_len"]), generator=g)
    chosen = torch.cat([prompts, good], 1)
    rejected = torch.cat([prompts, bad], 1)
    mask = torch.cat([torch.zeros(n, cfg["prompt_len"]), torch.ones(n, cfg["resp_len"])], 1)
    return DataLoader(TensorDataset(chosen, rejected, mask), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = DPOModule(DPO_CFG)
    pol0 = model.policy.lm_head.weight.detach().clone()
    ref0 = model.reference.lm_head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=DPO_CFG["epochs"], logger=False, enable_checkpointing=False)
    trainer.fit(model, preference_pairs(DPO_CFG))
    return {"model": model}, {
        "policy_changed": not torch.equal(pol0, model.policy.lm_head.weight),
        "reference_changed": not torch.equal(ref0, model.reference.lm_head.weight),
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
