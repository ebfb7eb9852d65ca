import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class TinyBertConfig(PretrainedConfig):
    model_type = "tiny_bert"

    def __init__(self, vocab=40, dim=16, depth=2, heads=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab, self.dim, self.depth, self.heads = vocab, dim, depth, heads


class Layer(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, h):
        a, weights = self.attn(h, h, h, need_weights=True, average_attn_weights=False)
        h = self.norm1(h + a)
        return self.norm2(h + self.ffn(h)), weights


class TinyBert(PreTrainedModel):
    config_class = TinyBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab, config.dim)
        self.layers = nn.ModuleList(Layer(config.dim, config.heads) for _ in range(config.depth))
        self.post_init()

    def forward(self, input_ids):
        h, attns = self.embed(input_ids), []
        for layer in self.layers:
            h, w = layer(h)
            attns.append(w)
        return h, attns


class MiniLMDistiller(nn.Module):
    """Deep self-attention distillation: match the teacher's last-layer attention distributions."""

    def __init__(self, student, teacher):
        super().__init__()
        self.student, self.teacher = student, teacher
        self.teacher.requires_grad_(False)

    def forward(self, input_ids):
        with torch.no_grad():
            _, t_attn = self.teacher(input_ids)
        _, s_attn = self.student(input_ids)
        loss = F.kl_div(torch.log(s_attn[-1] + 1e-9), t_attn[-1], reduction="batchmean")
        return {"loss": loss}


class Tokens(Dataset):
    def __init__(self, n=16):
        self.ids = torch.randint(0, 40, (n, 6), generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, k):
        return {"input_ids": self.ids[k]}


def main():
    torch.manual_seed(0)
    cfg = TinyBertConfig()
    distiller = MiniLMDistiller(TinyBert(cfg), TinyBert(cfg))
    last = distiller.student.layers[-1]
    ffn0, attn0 = last.ffn[0].weight.detach().clone(), last.attn.in_proj_weight.detach().clone()
    args = TrainingArguments(output_dir="out_minilm", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, report_to=[])
    Trainer(model=distiller, args=args, train_dataset=Tokens()).train()
    return ({"distiller": distiller},
            {"last_ffn_changed": not torch.equal(ffn0, last.ffn[0].weight),
             "last_attn_changed": not torch.equal(attn0, last.attn.in_proj_weight)})

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
