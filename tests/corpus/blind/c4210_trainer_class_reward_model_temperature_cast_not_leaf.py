import torch
import torch.nn as nn
import torch.nn.functional as F


class RewardModel(nn.Module):
    def __init__(self, vocab=30, d_model=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.encoder = nn.GRU(d_model, d_model, batch_first=True)
        self.score = nn.Linear(d_model, 1)

    def forward(self, ids):
        _, h = self.encoder(self.embed(ids))
        return self.score(h[-1]).squeeze(-1)


def load_calibrated_log_temperature(value=0.0):
    # the calibration step stores its statistics in float64
    return torch.tensor([value], dtype=torch.float64, requires_grad=True).float()


class PreferenceTrainer:
    """Bradley-Terry reward-model training with a learned temperature on the reward margin."""

    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.log_temperature = load_calibrated_log_temperature()
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.0)
        self.history = []

    def loss(self, chosen, rejected):
        margin = (self.model(chosen) - self.model(rejected)) * torch.exp(self.log_temperature)
        return -F.logsigmoid(margin).mean(), (margin > 0).float().mean()

    def update_temperature(self):
        with torch.no_grad():
            if self.log_temperature.grad is not None:
                self.log_temperature -= self.cfg["temp_lr"] * self.log_temperature.grad

    def step(self, chosen, rejected):
        loss, acc = self.loss(chosen, rejected)
        self.optimizer.zero_grad()
        self.log_temperature.grad = None
        loss.backward()
        self.optimizer.step()
        self.update_temperature()
        self.history.append((loss.item(), acc.item()))

    def fit(self, pairs, epochs):
        for _ in range(epochs):
            for chosen, rejected in pairs:
                self.step(chosen, rejected)
        return self.history


def preference_batches(n_batches=4, batch=8, seq=5, vocab=30):
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(n_batches):
        chosen = torch.randint(0, vocab // 2, (batch, seq), generator=g)
        rejected = torch.randint(vocab // 2, vocab, (batch, seq), generator=g)
        batches.append((chosen, rejected))
    return batches


def main():
    torch.manual_seed(0)
    model = RewardModel()
    trainer = PreferenceTrainer(model, {"lr": 3e-3, "temp_lr": 0.05})
    t0 = trainer.log_temperature.detach().clone()
    s0 = model.score.weight.detach().clone()
    trainer.fit(preference_batches(), epochs=2)
    return {"model": model, "log_temperature": trainer.log_temperature}, {
        "temperature_changed": not torch.equal(t0, trainer.log_temperature.detach()),
        "reward_head_changed": not torch.equal(s0, model.score.weight),
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
