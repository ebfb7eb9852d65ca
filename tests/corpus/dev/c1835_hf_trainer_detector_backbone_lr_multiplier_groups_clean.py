import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import PretrainedConfig, PreTrainedModel, Trainer, TrainingArguments


class DetConfig(PretrainedConfig):
    model_type = "tiny-detr"


class TinyDetr(PreTrainedModel):
    config_class = DetConfig

    def __init__(self, config):
        super().__init__(config)
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
        self.neck = nn.Linear(16, 32)
        self.queries = nn.Parameter(torch.randn(config.num_queries, 32) * 0.1)
        self.class_head = nn.Linear(32, config.num_labels + 1)
        self.box_head = nn.Linear(32, 4)

    def forward(self, pixel_values, class_labels=None, boxes=None):
        mem = self.neck(self.backbone(pixel_values).flatten(2).transpose(1, 2))
        attn = torch.softmax(self.queries @ mem.transpose(1, 2), dim=-1)
        hs = attn @ mem
        logits, pred_boxes = self.class_head(hs), self.box_head(hs).sigmoid()
        loss = F.cross_entropy(logits.flatten(0, 1), class_labels.flatten()) + F.l1_loss(pred_boxes, boxes)
        return {"loss": loss, "logits": logits}


class BoxDataset(Dataset):
    def __init__(self, n=32, q=4):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, 16, 16, generator=g)
        self.y = torch.randint(0, 3, (n, q), generator=g)
        self.b = torch.rand(n, q, 4, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"pixel_values": self.x[i], "class_labels": self.y[i], "boxes": self.b[i]}


class DetectionTrainer(Trainer):
    backbone_lr_mult = 0.1

    def create_optimizer(self):
        if self.optimizer is None:
            backbone = [p for n, p in self.model.named_parameters() if n.startswith("backbone.") and p.requires_grad]
            rest = [p for n, p in self.model.named_parameters() if not n.startswith("backbone.") and p.requires_grad]
            groups = [
                {"params": backbone, "lr": self.args.learning_rate * self.backbone_lr_mult},
                {"params": rest, "lr": self.args.learning_rate},
            ]
            self.optimizer = torch.optim.AdamW(groups, lr=self.args.learning_rate, weight_decay=self.args.weight_decay)
        return self.optimizer


def main():
    torch.manual_seed(0)
    model = TinyDetr(DetConfig(num_labels=2, num_queries=4))
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, num_train_epochs=2,
                             learning_rate=1e-3, weight_decay=1e-4, report_to="none")
    trainer = DetectionTrainer(model=model, args=args, train_dataset=BoxDataset())
    b0, h0 = model.backbone[0].weight.detach().clone(), model.class_head.weight.detach().clone()
    trainer.train()
    in_groups = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    covered = all(id(p) in in_groups for p in model.parameters() if p.requires_grad)
    batch = BoxDataset()[0]
    model(**{k: v[None] for k, v in batch.items()})["loss"].backward()
    return {"model": model}, {"backbone_changed": not torch.equal(b0, model.backbone[0].weight),
                              "heads_changed": not torch.equal(h0, model.class_head.weight),
                              "params_covered": covered}

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
