import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainerCallback, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class ClampConfig(PretrainedConfig):
    model_type = "tiny-clamp"

    def __init__(self, vocab_size=40, text_dim=16, mol_dim=10, proj_dim=16, num_labels=2, **kw):
        super().__init__(num_labels=num_labels, **kw)
        self.vocab_size, self.text_dim, self.mol_dim, self.proj_dim = vocab_size, text_dim, mol_dim, proj_dim


class TextEncoder(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)

    def forward(self, ids):
        return torch.tanh(self.mix(self.emb(ids).mean(1)))


class ClampModel(PreTrainedModel):
    config_class = ClampConfig

    def __init__(self, config):
        super().__init__(config)
        self.text_encoder = TextEncoder(config.vocab_size, config.text_dim)
        self.mol_encoder = nn.Sequential(nn.Linear(config.mol_dim, 32), nn.ReLU(), nn.Linear(32, config.proj_dim))
        self.text_proj = nn.Linear(config.text_dim, config.proj_dim)
        self.post_init()

    def freeze_text_encoder(self):
        for p in self.text_encoder.parameters():
            p.requires_grad = False

    def forward(self, mol, assay_ids, labels=None):
        t = F.normalize(self.text_proj(self.text_encoder(assay_ids)), dim=-1)
        m = F.normalize(self.mol_encoder(mol), dim=-1)
        score = 5.0 * (t * m).sum(-1)
        loss = F.binary_cross_entropy_with_logits(score, labels.float()) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=score)


class GradNormLogger(TrainerCallback):
    def __init__(self):
        self.records = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        norms = [p.grad.norm().item() for p in model.parameters() if p.grad is not None]
        self.records.append(sum(norms))


class AssayDataset(Dataset):
    def __init__(self, n=24):
        g = torch.Generator().manual_seed(32)
        self.mol = torch.randn(n, 10, generator=g)
        self.ids = torch.randint(0, 40, (n, 6), generator=g)
        self.labels = (self.mol[:, 0] > 0).long().tolist()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"mol": self.mol[i], "assay_ids": self.ids[i], "labels": self.labels[i]}


def main():
    torch.manual_seed(0)
    model = ClampModel(ClampConfig())
    model.freeze_text_encoder()
    logger = GradNormLogger()
    args = TrainingArguments(output_dir="/tmp/c3424_out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=5e-3, weight_decay=0.01, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=AssayDataset(), callbacks=[logger])
    mol0 = model.mol_encoder[0].weight.detach().clone()
    proj0 = model.text_proj.weight.detach().clone()
    txt0 = model.text_encoder.mix.weight.detach().clone()
    trainer.train()
    return {"model": model}, {
        "mol_encoder_changed": not torch.equal(mol0, model.mol_encoder[0].weight),
        "text_proj_changed": not torch.equal(proj0, model.text_proj.weight),
        "text_encoder_unchanged": torch.equal(txt0, model.text_encoder.mix.weight),
        "grad_norms_logged": len(logger.records),
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
