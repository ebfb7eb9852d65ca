import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class SpeakerConfig(PretrainedConfig):
    model_type = "xvector-lite"

    def __init__(self, n_mels=12, emb_dim=16, n_speakers=5, margin=0.2, scale=20.0, **kw):
        super().__init__(**kw)
        self.n_mels, self.emb_dim, self.n_speakers, self.margin, self.scale = n_mels, emb_dim, n_speakers, margin, scale


class SpeakerEncoder(PreTrainedModel):
    config_class = SpeakerConfig

    def __init__(self, config):
        super().__init__(config)
        self.frame = nn.Sequential(nn.Conv1d(config.n_mels, 32, 3, padding=1), nn.ReLU())
        self.embed = nn.Linear(64, config.emb_dim)
        self.aam_weight = nn.Parameter(torch.randn(config.n_speakers, config.emb_dim) * 0.1)

    def forward(self, feats=None):
        h = self.frame(feats)
        return self.embed(torch.cat([h.mean(-1), h.std(-1)], -1))


def aam_softmax_logits(emb, weight, labels, margin, scale):
    cos = F.normalize(emb, dim=-1).data @ F.normalize(weight, dim=-1).t()
    target = torch.cos(torch.acos(cos.clamp(-0.999, 0.999)) + margin)
    return scale * torch.where(F.one_hot(labels, cos.shape[1]).bool(), target, cos)


class AAMTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        emb = model(feats=inputs["feats"])
        cfg = model.config
        loss = F.cross_entropy(aam_softmax_logits(emb, model.aam_weight, inputs["labels"], cfg.margin, cfg.scale), inputs["labels"])
        return (loss, emb) if return_outputs else loss


class Utterances(Dataset):
    def __init__(self, n=60, n_mels=12, T=20):
        g = torch.Generator().manual_seed(0)
        self.labels = torch.randint(0, 5, (n,), generator=g)
        prof = torch.randn(5, n_mels, 1, generator=g)
        self.feats = prof[self.labels] + 0.5 * torch.randn(n, n_mels, T, generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"feats": self.feats[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = SpeakerEncoder(SpeakerConfig())
    enc0, w0 = model.embed.weight.detach().clone(), model.aam_weight.detach().clone()
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=20, num_train_epochs=2, learning_rate=5e-3,
                             remove_unused_columns=False, report_to="none")
    AAMTrainer(model=model, args=args, train_dataset=Utterances()).train()
    return {"model": model}, {"encoder_changed": not torch.equal(enc0, model.embed.weight),
                              "aam_weight_changed": not torch.equal(w0, model.aam_weight)}

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
