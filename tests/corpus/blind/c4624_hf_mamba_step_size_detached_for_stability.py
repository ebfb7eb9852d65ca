import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, CausalLMOutput


class MambaConfig(PretrainedConfig):
    model_type = "mamba-mini"

    def __init__(self, vocab_size=40, d_model=16, d_state=4, dt_rank=2, n_layer=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.d_model, self.d_state = vocab_size, d_model, d_state
        self.dt_rank, self.n_layer = dt_rank, n_layer


class MambaMixer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, n, r = cfg.d_model, cfg.d_state, cfg.dt_rank
        self.in_proj = nn.Linear(d, 2 * d)
        self.x_proj = nn.Linear(d, r + 2 * n, bias=False)
        self.dt_proj = nn.Linear(r, d)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1).float()).repeat(d, 1))
        self.D = nn.Parameter(torch.ones(d))
        self.out_proj = nn.Linear(d, d)
        self.r, self.n = r, n
        with torch.no_grad():
            dt = torch.exp(torch.rand(d) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

    def discretize(self, dt_in, B):
        dt = F.softplus(self.dt_proj(dt_in)).detach()
        A = -self.A_log.exp()
        dA = torch.exp(dt.unsqueeze(-1) * A)
        dB = dt.unsqueeze(-1) * B.unsqueeze(2)
        return dA, dB

    def forward(self, x):
        u, z = self.in_proj(x).chunk(2, -1)
        u = F.silu(u)
        dt_in, B, C = self.x_proj(u).split([self.r, self.n, self.n], -1)
        dA, dB = self.discretize(dt_in, B)
        h = x.new_zeros(x.size(0), x.size(2), self.n)
        ys = []
        for t in range(x.size(1)):
            h = dA[:, t] * h + dB[:, t] * u[:, t].unsqueeze(-1)
            ys.append((h * C[:, t].unsqueeze(1)).sum(-1))
        y = torch.stack(ys, 1) + self.D * u
        return self.out_proj(y * F.silu(z))


class MambaLM(PreTrainedModel):
    config_class = MambaConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.d_model)
        self.norms = nn.ModuleList(nn.LayerNorm(config.d_model) for _ in range(config.n_layer))
        self.mixers = nn.ModuleList(MambaMixer(config) for _ in range(config.n_layer))
        self.norm_f = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids, labels=None):
        h = self.embeddings(input_ids)
        for norm, mixer in zip(self.norms, self.mixers):
            h = h + mixer(norm(h))
        logits = self.lm_head(self.norm_f(h))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


class CopyTaskDataset(Dataset):
    """Selective-copy style sequences: a few marked tokens must be recalled at the end."""

    def __init__(self, n=32, length=16, vocab=40):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(2, vocab, (n, length), generator=g)
        self.ids[:, -4:] = self.ids[:, :4]

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main():
    model = MambaLM(MambaConfig())
    dt0 = model.mixers[0].dt_proj.weight.detach().clone()
    in0 = model.mixers[0].in_proj.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/mamba-mini", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=3e-3, warmup_ratio=0.1, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=CopyTaskDataset())
    trainer.train()
    return {"model": model}, {
        "dt_proj_changed": not torch.equal(dt0, model.mixers[0].dt_proj.weight),
        "in_proj_changed": not torch.equal(in0, model.mixers[0].in_proj.weight),
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
