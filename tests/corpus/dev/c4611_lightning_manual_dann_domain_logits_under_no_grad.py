import math
import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset

HP = {"in_dim": 20, "feat_dim": 32, "classes": 3, "lr": 1e-3, "lr_domain": 1e-3, "gamma": 10.0, "epochs": 2}


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


def grad_reverse(x, alpha):
    return GradReverse.apply(x, alpha)


def domain_logits_and_acc(domain_head, features, domain_labels, alpha):
    with torch.no_grad():
        logits = domain_head(grad_reverse(features, alpha))
        acc = ((logits.squeeze(-1) > 0).float() == domain_labels).float().mean()
    return logits.squeeze(-1), acc


class DANN(pl.LightningModule):
    def __init__(self, hp):
        super().__init__()
        self.hp = hp
        self.automatic_optimization = False
        self.features = nn.Sequential(nn.Linear(hp["in_dim"], 64), nn.ReLU(), nn.Linear(64, hp["feat_dim"]), nn.ReLU())
        self.label_head = nn.Linear(hp["feat_dim"], hp["classes"])
        self.domain_head = nn.Sequential(nn.Linear(hp["feat_dim"], 32), nn.ReLU(), nn.Linear(32, 1))
        self.total_steps = 1

    def on_fit_start(self):
        self.total_steps = self.trainer.max_epochs * 4

    def grl_alpha(self):
        p = self.global_step / max(1, self.total_steps)
        return 2.0 / (1.0 + math.exp(-self.hp["gamma"] * p)) - 1.0

    def training_step(self, batch, batch_idx):
        opt_main, opt_domain = self.optimizers()
        xs, ys, xt = batch
        feats = self.features(torch.cat([xs, xt], dim=0))
        cls_loss = F.cross_entropy(self.label_head(feats[: len(xs)]), ys)
        dom_labels = torch.cat([torch.zeros(len(xs)), torch.ones(len(xt))])
        dom_logits, dom_acc = domain_logits_and_acc(self.domain_head, feats, dom_labels, self.grl_alpha())
        dom_loss = F.binary_cross_entropy_with_logits(dom_logits, dom_labels)
        loss = cls_loss + dom_loss
        opt_main.zero_grad()
        opt_domain.zero_grad()
        self.manual_backward(loss)
        opt_main.step()
        opt_domain.step()
        self.log_dict({"cls": cls_loss.item(), "dom": dom_loss.item(), "dom_acc": dom_acc.item()})

    def validation_step(self, batch, batch_idx):
        xs, ys, xt = batch
        acc = (self.label_head(self.features(xs)).argmax(-1) == ys).float().mean()
        self.log("val/src_acc", acc.item())

    def configure_optimizers(self):
        main = torch.optim.Adam(list(self.features.parameters()) + list(self.label_head.parameters()), lr=self.hp["lr"])
        domain = torch.optim.Adam(self.domain_head.parameters(), lr=self.hp["lr_domain"])
        return [main, domain]


def source_target_loader(hp, n=32):
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(n, hp["in_dim"], generator=g)
    ys = (xs[:, 0] > 0).long() + (xs[:, 1] > 1).long()
    xt = torch.randn(n, hp["in_dim"], generator=g) * 1.5 + 0.7   # shifted target domain, no labels
    return DataLoader(TensorDataset(xs, ys, xt), batch_size=8, shuffle=True, generator=g)


def main():
    pl.seed_everything(0)
    model = DANN(HP)
    dom0 = model.domain_head[0].weight.detach().clone()
    lab0 = model.label_head.weight.detach().clone()
    trainer = pl.Trainer(max_epochs=HP["epochs"], logger=False, enable_checkpointing=False)
    loader = source_target_loader(HP)
    trainer.fit(model, loader, loader)
    return {"model": model}, {
        "domain_head_changed": not torch.equal(dom0, model.domain_head[0].weight),
        "label_head_changed": not torch.equal(lab0, model.label_head.weight),
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
