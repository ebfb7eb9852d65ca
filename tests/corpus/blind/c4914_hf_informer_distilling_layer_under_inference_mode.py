import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class InformerConfig(PretrainedConfig):
    model_type = "informer-lite"

    def __init__(self, d_model=16, n_heads=2, horizon=4, **kw):
        super().__init__(**kw)
        self.d_model, self.n_heads, self.horizon = d_model, n_heads, horizon


class DistillingLayer(nn.Module):
    """Informer's self-attention distilling: conv + ELU + max-pool halves the sequence."""

    def __init__(self, d):
        super().__init__()
        self.conv = nn.Conv1d(d, d, 3, padding=1)
        self.norm = nn.BatchNorm1d(d)

    @torch.inference_mode()
    def forward(self, x):
        y = F.elu(self.norm(self.conv(x.transpose(1, 2))))
        return F.max_pool1d(y, 3, stride=2, padding=1).transpose(1, 2)


class InformerLite(PreTrainedModel):
    config_class = InformerConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Linear(1, config.d_model)
        self.attn1 = nn.MultiheadAttention(config.d_model, config.n_heads, batch_first=True)
        self.distil = DistillingLayer(config.d_model)
        self.attn2 = nn.MultiheadAttention(config.d_model, config.n_heads, batch_first=True)
        self.head = nn.Linear(config.d_model, config.horizon)

    def forward(self, past=None, future=None):
        h = self.embed(past.unsqueeze(-1))
        h = h + self.attn1(h, h, h, need_weights=False)[0]
        h = self.distil(h)
        h = h + self.attn2(h, h, h, need_weights=False)[0]
        pred = self.head(h[:, -1])
        return {"loss": F.mse_loss(pred, future), "pred": pred}


class SineWindows(Dataset):
    def __init__(self, n=48, L=16, horizon=4):
        g = torch.Generator().manual_seed(0)
        phase = torch.rand(n, 1, generator=g) * 6.28
        s = torch.sin(torch.arange(L + horizon) * 0.4 + phase)
        self.past, self.future = s[:, :L], s[:, L:]

    def __len__(self):
        return len(self.past)

    def __getitem__(self, i):
        return {"past": self.past[i], "future": self.future[i]}


def main():
    torch.manual_seed(0)
    model = InformerLite(InformerConfig())
    emb0, conv0, head0 = model.embed.weight.detach().clone(), model.distil.conv.weight.detach().clone(), model.head.weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=16, num_train_epochs=1, learning_rate=1e-3, report_to="none")
    Trainer(model=model, args=args, train_dataset=SineWindows()).train()
    return {"model": model}, {"embed_changed": not torch.equal(emb0, model.embed.weight),
                              "distil_changed": not torch.equal(conv0, model.distil.conv.weight),
                              "head_changed": not torch.equal(head0, model.head.weight)}

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
