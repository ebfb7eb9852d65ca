import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput


class ProbeConfig(PretrainedConfig):
    model_type = "tiny_mae_probe"

    def __init__(self, patch_dim=12, d_model=16, n_patches=6, num_labels=4, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.patch_dim, self.d_model, self.n_patches = patch_dim, d_model, n_patches


class MAEEncoder(nn.Module):
    def __init__(self, patch_dim, d, n_patches):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, d)
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, n_patches, d))
        self.blocks = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, patches):
        x = self.patch_embed(patches) + self.pos_embed
        return x + self.blocks(x)


class MAELinearProbe(PreTrainedModel):
    config_class = ProbeConfig

    def __init__(self, config):
        super().__init__(config)
        self.encoder = MAEEncoder(config.patch_dim, config.d_model, config.n_patches)
        self.fc_norm = nn.BatchNorm1d(config.d_model, affine=False)
        self.head = nn.Linear(config.d_model, config.num_labels)
        self.post_init()

    def forward(self, patches=None, labels=None, **kwargs):
        feats = self.fc_norm(self.encoder(patches).mean(1))
        logits = self.head(feats)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def freeze_for_linear_probe(model):
    for _, p in model.named_parameters():
        p.requires_grad = False
    for _, p in model.head.named_parameters():
        p.requires_grad = True


def probe_samples(n=32):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        y = torch.randint(0, 4, (), generator=g)
        out.append({"patches": torch.randn(6, 12, generator=g) + y.float(), "labels": y})
    return out


def main():
    torch.manual_seed(0)
    model = MAELinearProbe(ProbeConfig())
    freeze_for_linear_probe(model)
    head0 = model.head.weight.detach().clone()
    enc0 = model.encoder.patch_embed.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/probe", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-2, weight_decay=0.05, report_to="none")
    Trainer(model=model, args=args, train_dataset=probe_samples()).train()
    return {}, {
        "head_changed": not torch.equal(head0, model.head.weight),
        "encoder_unchanged": torch.equal(enc0, model.encoder.patch_embed.weight),
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
