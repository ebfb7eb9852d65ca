import torch
import torch.nn as nn
import torch.nn.functional as F
import lightning.pytorch as pl
from torch.utils.data import DataLoader, TensorDataset


def conv_net(widths, n_classes):
    layers, c = [], 3
    for w in widths:
        layers.append(nn.Sequential(nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)))
        c = w
    return nn.ModuleList(layers), nn.Linear(c, n_classes)


class Net(nn.Module):
    def __init__(self, widths, n_classes):
        super().__init__()
        self.stages, self.fc = conv_net(widths, n_classes)

    def forward(self, x, hint_stage):
        hint = None
        for k, stage in enumerate(self.stages):
            x = stage(x)
            if k == hint_stage:
                hint = x
        return self.fc(x.mean((2, 3))), hint


class FitNetDistiller(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.automatic_optimization = False
        self.teacher = Net(cfg["teacher_widths"], cfg["n_classes"])
        self.teacher.requires_grad_(False)
        self.student = Net(cfg["student_widths"], cfg["n_classes"])
        s_ch, t_ch = cfg["student_widths"][cfg["hint_stage"]], cfg["teacher_widths"][cfg["hint_stage"]]
        self.connector = nn.Sequential(nn.Conv2d(s_ch, t_ch, 1, bias=False), nn.BatchNorm2d(t_ch))
        self.cfg = cfg

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x, y = batch
        self.teacher.eval()
        with torch.no_grad():
            t_logits, t_hint = self.teacher(x, self.cfg["hint_stage"])
        s_logits, s_hint = self.student(x, self.cfg["hint_stage"])
        hint_loss = F.mse_loss(self.connector(s_hint), t_hint)
        kd = F.kl_div(F.log_softmax(s_logits / 4, -1), F.softmax(t_logits / 4, -1), reduction="batchmean") * 16
        loss = F.cross_entropy(s_logits, y) + self.cfg["hint_w"] * hint_loss + self.cfg["kd_w"] * kd
        opt.zero_grad()
        self.manual_backward(loss)
        torch.nn.utils.clip_grad_norm_(self.student.parameters(), 5.0)
        opt.step()
        self.log("train/hint", hint_loss.item())

    def configure_optimizers(self):
        return torch.optim.SGD(self.student.parameters(), lr=self.cfg["lr"], momentum=0.9, weight_decay=5e-4)


def main():
    pl.seed_everything(0)
    cfg = {"teacher_widths": [16, 32], "student_widths": [8, 16], "n_classes": 5, "hint_stage": 1,
           "hint_w": 1.0, "kd_w": 0.5, "lr": 0.05}
    model = FitNetDistiller(cfg)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 3, 16, 16, generator=g)
    y = torch.randint(0, cfg["n_classes"], (32,), generator=g)
    conn0 = model.connector[0].weight.detach().clone()
    stu0 = model.student.stages[0][0].weight.detach().clone()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, DataLoader(TensorDataset(x, y), batch_size=8))
    return {"model": model}, {
        "connector_changed": not torch.equal(conn0, model.connector[0].weight),
        "student_changed": not torch.equal(stu0, model.student.stages[0][0].weight),
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
