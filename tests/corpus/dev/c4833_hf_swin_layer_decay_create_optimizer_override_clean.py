import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments, SequenceClassifierOutput


class SwinConfig(PretrainedConfig):
    model_type = "tiny-swin"

    def __init__(self, img=16, patch=2, dim=16, window=4, depths=(1, 1), num_labels=4, layer_decay=0.75, **kwargs):
        super().__init__(num_labels=num_labels, **kwargs)
        self.img, self.patch, self.dim, self.window, self.depths, self.layer_decay = img, patch, dim, window, depths, layer_decay


class WindowBlock(nn.Module):
    def __init__(self, dim, window, shift):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(window * window))
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        B, H, W, C = x.shape
        w = self.window
        h = torch.roll(self.norm1(x), (-self.shift, -self.shift), (1, 2))
        win = h.reshape(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, C)
        win = win + self.attn(win, win, win, need_weights=False)[0] + self.relative_position_bias_table[None, :, None]
        h = win.reshape(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C)
        x = x + torch.roll(h, (self.shift, self.shift), (1, 2))
        return x + self.mlp(self.norm2(x))


class SwinForImageClassification(PreTrainedModel):
    config_class = SwinConfig

    def __init__(self, config):
        super().__init__(config)
        self.patch_embed = nn.Conv2d(3, config.dim, config.patch, config.patch)
        self.layers = nn.ModuleList(WindowBlock(config.dim, config.window, (i % 2) * config.window // 2)
                                    for i in range(sum(config.depths)))
        self.norm = nn.LayerNorm(config.dim)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        x = self.patch_embed(pixel_values).permute(0, 2, 3, 1)
        for layer in self.layers:
            x = layer(x)
        logits = self.classifier(self.norm(x.mean((1, 2))))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def layer_id_for(name, num_layers):
    if name.startswith("patch_embed"):
        return 0
    if name.startswith("layers."):
        return int(name.split(".")[1]) + 1
    return num_layers + 1


class LayerDecayTrainer(Trainer):
    def create_optimizer(self):
        if self.optimizer is None:
            num_layers = len(self.model.layers)
            groups = {}
            for name, p in self.model.named_parameters():
                if not p.requires_grad:
                    continue
                lid = layer_id_for(name, num_layers)
                scale = self.model.config.layer_decay ** (num_layers + 1 - lid)
                no_wd = p.ndim == 1 or "relative_position_bias_table" in name
                g = groups.setdefault((lid, no_wd), {"params": [], "lr": self.args.learning_rate * scale,
                                                     "weight_decay": 0.0 if no_wd else self.args.weight_decay})
                g["params"].append(p)
            self.optimizer = torch.optim.AdamW(list(groups.values()), lr=self.args.learning_rate)
        return self.optimizer


class ShapesDataset(Dataset):
    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, 16, 16, generator=g)
        self.y = (self.x[:, 0, :8].mean((1, 2)) > 0).long() * 2 + (self.x[:, 1, :, :8].mean((1, 2)) > 0).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"pixel_values": self.x[i], "labels": self.y[i]}


def main():
    torch.manual_seed(0)
    model = SwinForImageClassification(SwinConfig())
    pe0 = model.patch_embed.weight.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir="/tmp/swin-lld", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=2e-3, weight_decay=0.05, report_to="none")
    trainer = LayerDecayTrainer(model=model, args=args, train_dataset=ShapesDataset())
    trainer.train()
    in_opt = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    return {"model": model}, {
        "patch_embed_changed": not torch.equal(pe0, model.patch_embed.weight),
        "head_changed": not torch.equal(head0, model.classifier.weight),
        "all_params_in_optimizer": all(id(p) in in_opt for p in model.parameters()),
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
