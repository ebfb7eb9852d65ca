import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import ModelOutput


class StrokeConfig(PretrainedConfig):
    model_type = "stroke-mdn"

    def __init__(self, hidden=16, n_mix=3, **kw):
        super().__init__(**kw)
        self.hidden, self.n_mix = hidden, n_mix


class StrokeMDN(PreTrainedModel):
    config_class = StrokeConfig

    def __init__(self, config):
        super().__init__(config)
        self.rnn = nn.GRU(2, config.hidden, batch_first=True)
        self.mdn = nn.Linear(config.hidden, 3 * config.n_mix)
        self.post_init()

    def forward(self, strokes):
        h, _ = self.rnn(strokes)
        return ModelOutput(params=self.mdn(h[:, :-1]))


class MixtureNLL(torch.autograd.Function):
    """Negative log-likelihood of a 1-D Gaussian mixture (per time step)."""

    @staticmethod
    def forward(ctx, params, target):
        logit_pi, mu, log_sigma = params.chunk(3, dim=-1)
        log_pi = logit_pi - logit_pi.logsumexp(-1, keepdim=True)
        z = (target.unsqueeze(-1) - mu) / log_sigma.exp()
        log_prob = log_pi - 0.5 * z * z - log_sigma - 0.5 * math.log(2 * math.pi)
        ctx.save_for_backward(params, target)
        return -log_prob.logsumexp(-1).mean()


class StrokeTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        strokes = inputs["strokes"]
        outputs = model(strokes=strokes)
        loss = MixtureNLL.apply(outputs["params"], strokes[:, 1:, 0])
        return (loss, outputs) if return_outputs else loss


class StrokeData(Dataset):
    def __init__(self, n=16, steps=7):
        g = torch.Generator().manual_seed(0)
        self.x = torch.cumsum(torch.randn(n, steps, 2, generator=g) * 0.1, dim=1)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"strokes": self.x[i]}


def main():
    model = StrokeMDN(StrokeConfig())
    args = TrainingArguments(output_dir="/tmp/c2721", per_device_train_batch_size=4, num_train_epochs=1,
                             learning_rate=1e-2, report_to="none")
    StrokeTrainer(model=model, args=args, train_dataset=StrokeData()).train()
    return {"model": model}

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
