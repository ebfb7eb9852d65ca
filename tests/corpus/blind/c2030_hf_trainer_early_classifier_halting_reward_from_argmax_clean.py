import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class EarliestConfig(PretrainedConfig):
    model_type = "earliest"

    def __init__(self, n_features=3, hidden_size=16, num_labels=2, lam=0.01, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.n_features, self.hidden_size, self.lam = n_features, hidden_size, lam


class EarliestModel(PreTrainedModel):
    """Early time-series classification: an RNN reads step by step, a halting policy decides when to stop."""

    config_class = EarliestConfig

    def __init__(self, config):
        super().__init__(config)
        self.rnn = nn.GRUCell(config.n_features, config.hidden_size)
        self.controller = nn.Linear(config.hidden_size, 1)
        self.baseline = nn.Linear(config.hidden_size, 1)
        self.discriminator = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, series, labels):
        b, t, _ = series.shape
        h = series.new_zeros(b, self.config.hidden_size)
        halted = torch.zeros(b, dtype=torch.bool)
        log_pis, baselines, grad_mask, final_h = [], [], [], h
        for step in range(t):
            h = self.rnn(series[:, step], h)
            p_halt = torch.sigmoid(self.controller(h)).squeeze(-1)
            halt = torch.bernoulli(p_halt.detach()).bool() | (step == t - 1)
            log_pis.append(torch.where(halt, p_halt, 1 - p_halt).clamp_min(1e-6).log())
            baselines.append(self.baseline(h.detach()).squeeze(-1))
            grad_mask.append((~halted).float())
            final_h = torch.where((halt & ~halted)[:, None], h, final_h)
            halted = halted | halt
        logits = self.discriminator(final_h)
        y_hat = torch.softmax(logits, dim=1).argmax(dim=1)
        reward = (2 * (y_hat == labels).float() - 1).detach()
        log_pi, b_hat, mask = torch.stack(log_pis, 1), torch.stack(baselines, 1), torch.stack(grad_mask, 1)
        advantage = (reward[:, None] - b_hat.detach()) * mask
        loss_r = -(log_pi * advantage).sum(1).mean()
        loss_b = F.mse_loss(b_hat * mask, reward[:, None] * mask)
        loss_c = F.cross_entropy(logits, labels)
        loss = loss_c + loss_r + loss_b + self.config.lam * (mask.sum(1).mean())
        return ModelOutput(loss=loss, logits=logits)


def main():
    torch.manual_seed(0)
    series = torch.randn(32, 6, 3)
    labels = (series[:, :2, 0].mean(1) > 0).long()
    data = [{"series": series[i], "labels": labels[i]} for i in range(32)]
    model = EarliestModel(EarliestConfig())
    c0 = model.controller.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/earliest", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=data).train()
    model(series[:8], labels[:8])["loss"].backward()
    return {"model": model}, {"controller_changed": not torch.equal(c0, model.controller.weight)}

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
