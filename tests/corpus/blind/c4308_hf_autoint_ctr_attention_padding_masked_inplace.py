import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class AutoIntConfig(PretrainedConfig):
    model_type = "autoint"

    def __init__(self, field_cards=(20, 8, 6, 12), max_multi=3, dim=8, n_heads=2, n_layers=2, **kwargs):
        super().__init__(**kwargs)
        self.field_cards = list(field_cards)
        self.max_multi = max_multi
        self.dim, self.n_heads, self.n_layers = dim, n_heads, n_layers


class InteractingLayer(nn.Module):
    """Multi-head self-attention over feature fields (AutoInt)."""

    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads, self.d_head = n_heads, dim // n_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.res = nn.Linear(dim, dim, bias=False)

    def forward(self, x, field_mask):
        b, f, d = x.shape
        q, k, v = self.qkv(x).view(b, f, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        attn = torch.softmax(q @ k.transpose(-1, -2) / self.d_head ** 0.5, dim=-1)
        attn.masked_fill_(~field_mask[:, None, None, :], 0.0)
        out = (attn @ v).transpose(1, 2).reshape(b, f, d)
        return F.relu(out + self.res(x))


class AutoIntForCTR(PreTrainedModel):
    config_class = AutoIntConfig
    main_input_name = "field_ids"

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.ModuleList([nn.Embedding(c + 1, config.dim, padding_idx=0) for c in config.field_cards])
        self.layers = nn.ModuleList([InteractingLayer(config.dim, config.n_heads) for _ in range(config.n_layers)])
        self.out = nn.Linear(config.dim * len(config.field_cards), 1)
        self.post_init()

    def embed_fields(self, field_ids):
        vecs = []
        for k, emb in enumerate(self.embeddings):
            ids = field_ids[:, k]                       # (B, max_multi), 0 = padding
            e = emb(ids).sum(1) / (ids != 0).sum(1, keepdim=True).clamp_min(1)
            vecs.append(e)
        return torch.stack(vecs, 1)

    def forward(self, field_ids, labels=None):
        field_mask = (field_ids != 0).any(-1)
        x = self.embed_fields(field_ids)
        for layer in self.layers:
            x = layer(x, field_mask)
        logits = self.out(x.flatten(1)).squeeze(-1)
        loss = F.binary_cross_entropy_with_logits(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


class ClickDataset(Dataset):
    def __init__(self, cards, max_multi, n=64, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.rows = []
        for _ in range(n):
            ids = torch.zeros(len(cards), max_multi, dtype=torch.long)
            for k, c in enumerate(cards):
                m = int(torch.randint(0, max_multi + 1, (1,), generator=g)) if k == 3 else 1
                ids[k, :m] = torch.randint(1, c + 1, (m,), generator=g)
            label = float((ids[0, 0] % 2 == 0) and (ids[1, 0] > 3))
            self.rows.append({"field_ids": ids, "labels": torch.tensor(label)})

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, k):
        return self.rows[k]


def main():
    torch.manual_seed(0)
    config = AutoIntConfig()
    model = AutoIntForCTR(config)
    args = TrainingArguments(output_dir="/tmp/autoint", per_device_train_batch_size=16, num_train_epochs=2,
                             learning_rate=3e-3, report_to="none", seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=ClickDataset(config.field_cards, config.max_multi))
    trainer.train()
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
