import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


class LoRAMatmul(torch.autograd.Function):
    """Fused y = x W^T + s * (x A^T) B^T with the frozen base weight W kept out of autograd."""

    @staticmethod
    def forward(ctx, x, weight, lora_A, lora_B, scaling):
        ctx.save_for_backward(x, weight, lora_A, lora_B)
        ctx.scaling = scaling
        return x @ weight.t() + scaling * (x @ lora_A.t()) @ lora_B.t()

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, lora_A, lora_B = ctx.saved_tensors
        grad_x = grad_out @ weight + ctx.scaling * (grad_out @ lora_B) @ lora_A
        return grad_x, None, None, None, None


class FusedLoRALinear(nn.Module):
    def __init__(self, in_f, out_f, r=4, alpha=8):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_f, in_f) / math.sqrt(in_f), requires_grad=False)
        self.lora_A = nn.Parameter(torch.randn(r, in_f) / math.sqrt(in_f))
        self.lora_B = nn.Parameter(torch.zeros(out_f, r))
        self.scaling = alpha / r

    def forward(self, x):
        shape = x.shape
        y = LoRAMatmul.apply(x.reshape(-1, shape[-1]), self.weight, self.lora_A, self.lora_B, self.scaling)
        return y.reshape(*shape[:-1], -1)


class LoRAClassifier(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.embed = nn.Embedding(cfg["vocab"], cfg["d_model"]).requires_grad_(False)
        self.proj = FusedLoRALinear(cfg["d_model"], cfg["d_model"], cfg["rank"], cfg["alpha"])
        self.ffn = FusedLoRALinear(cfg["d_model"], cfg["d_model"], cfg["rank"], cfg["alpha"])
        self.classifier = nn.Linear(cfg["d_model"], cfg["classes"])
        self.cfg = cfg

    def forward(self, ids):
        h = self.embed(ids)
        h = h + F.gelu(self.ffn(F.gelu(self.proj(h))))
        return self.classifier(h.mean(1))

    def training_step(self, batch, batch_idx):
        ids, y = batch
        loss = F.cross_entropy(self(ids), y)
        self.log("train/loss", loss.item())
        return loss

    def configure_optimizers(self):
        lora = [p for n, p in self.named_parameters() if "lora_" in n]
        head = list(self.classifier.parameters())
        return torch.optim.AdamW([{"params": lora, "lr": self.cfg["lora_lr"]},
                                  {"params": head, "lr": self.cfg["head_lr"]}], weight_decay=0.0)


def intent_loader(n=24, seq=5, vocab=40, classes=3):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    return DataLoader(TensorDataset(ids, ids[:, 0] % classes), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    cfg = {"vocab": 40, "d_model": 16, "rank": 4, "alpha": 8, "classes": 3, "lora_lr": 5e-3, "head_lr": 1e-2}
    model = LoRAClassifier(cfg)
    a0 = model.proj.lora_A.detach().clone()
    head0 = model.classifier.weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, intent_loader())
    return {"model": model}, {
        "lora_changed": not torch.equal(a0, model.proj.lora_A),
        "classifier_changed": not torch.equal(head0, model.classifier.weight),
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
