import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import CausalLMOutput, PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class FlamingoConfig(PretrainedConfig):
    model_type = "flamingo-mini"


class GatedXAttn(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.gate = nn.Parameter(torch.tensor(0.1))

    def forward(self, x, visual):
        attn = torch.softmax(x @ visual.transpose(1, 2) / x.size(-1) ** 0.5, dim=-1)
        return x + torch.tanh(self.gate) * self.proj(attn @ visual)


class FlamingoCaptioner(PreTrainedModel):
    config_class = FlamingoConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.dim)
        self.resampler = nn.Linear(config.vis_dim, config.dim)
        self.xattn = GatedXAttn(config.dim)
        self.lm = nn.GRU(config.dim, config.dim, batch_first=True)
        self.lm_head = nn.Linear(config.dim, config.vocab_size)
        for m in (self.lm, self.lm_head):
            m.requires_grad_(False)

    def parameters_trainable(self):
        return [p for n, p in self.named_parameters() if n.startswith("xattn.") or n.startswith("resampler.")]

    def forward(self, input_ids, pixel_feats, labels=None):
        h = self.xattn(self.embed(input_ids), self.resampler(pixel_feats))
        logits = self.lm_head(self.lm(h)[0])
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten()) if labels is not None else None
        return CausalLMOutput(loss=loss, logits=logits)


class CaptionDataset(Dataset):
    def __init__(self, n=32, seq=8, vocab=41, eoc=40):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab - 1, (n, seq), generator=g)
        self.ids[:, -1] = eoc
        self.feats = torch.randn(n, 4, 12, generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "pixel_feats": self.feats[i], "labels": self.ids[i]}


def main():
    torch.manual_seed(0)
    config = FlamingoConfig(vocab_size=41, dim=16, vis_dim=12)
    model = FlamingoCaptioner(config)
    model.embed.weight.requires_grad_(True)  # the <EOC> row (id 40) is new and must be learned
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=CaptionDataset(),
                      optimizers=(torch.optim.AdamW(model.parameters_trainable(), lr=1e-3), None))
    e0, x0 = model.embed.weight[40].detach().clone(), model.xattn.proj.weight.detach().clone()
    trainer.train()
    batch = CaptionDataset()[0]
    model(**{k: v[None] for k, v in batch.items()}).loss.backward()
    return {"model": model}, {
        "eoc_embedding_changed": not torch.equal(e0, model.embed.weight[40].detach()),
        "xattn_changed": not torch.equal(x0, model.xattn.proj.weight),
        "embed_requires_grad": model.embed.weight.requires_grad,
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
