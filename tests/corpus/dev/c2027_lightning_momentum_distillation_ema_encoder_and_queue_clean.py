import copy

import lightning.pytorch as pl
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Tower(nn.Module):
    def __init__(self, d_in, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 32), nn.GELU(), nn.Linear(32, dim))

    def forward(self, x):
        return F.normalize(self.net(x), dim=-1)


class MomentumAligner(pl.LightningModule):
    """ALBEF-style image-text contrastive learning with momentum encoders, a feature queue and a learnable temperature."""

    def __init__(self, d_img=12, d_txt=10, dim=16, queue_size=32, momentum=0.99, alpha=0.4, temp=0.07):
        super().__init__()
        self.image_enc, self.text_enc = Tower(d_img, dim), Tower(d_txt, dim)
        self.image_enc_m, self.text_enc_m = copy.deepcopy(self.image_enc), copy.deepcopy(self.text_enc)
        for p in list(self.image_enc_m.parameters()) + list(self.text_enc_m.parameters()):
            p.requires_grad = False
        self.temp = nn.Parameter(torch.ones([]) * temp)
        self.register_buffer("image_queue", F.normalize(torch.randn(queue_size, dim), dim=-1))
        self.register_buffer("text_queue", F.normalize(torch.randn(queue_size, dim), dim=-1))
        self.register_buffer("queue_ptr", torch.zeros(1, dtype=torch.long))
        self.momentum, self.alpha = momentum, alpha

    @torch.no_grad()
    def _momentum_update(self):
        for online, target in ((self.image_enc, self.image_enc_m), (self.text_enc, self.text_enc_m)):
            for p, p_m in zip(online.parameters(), target.parameters()):
                p_m.data.mul_(self.momentum).add_(p.data, alpha=1 - self.momentum)

    @torch.no_grad()
    def _enqueue(self, img_feat, txt_feat):
        n, ptr = img_feat.size(0), int(self.queue_ptr)
        self.image_queue[ptr:ptr + n] = img_feat
        self.text_queue[ptr:ptr + n] = txt_feat
        self.queue_ptr[0] = (ptr + n) % self.image_queue.size(0)

    def training_step(self, batch, batch_idx):
        images, texts = batch
        with torch.no_grad():
            self.temp.clamp_(0.001, 0.5)
        img, txt = self.image_enc(images), self.text_enc(texts)
        with torch.no_grad():
            self._momentum_update()
            img_m, txt_m = self.image_enc_m(images), self.text_enc_m(texts)
            img_all = torch.cat([img_m, self.image_queue.clone().detach()])
            txt_all = torch.cat([txt_m, self.text_queue.clone().detach()])
            targets = torch.zeros(len(img), len(img_all))
            targets[:, :len(img)] = torch.eye(len(img))
            soft_i2t = self.alpha * F.softmax(img_m @ txt_all.t() / self.temp, dim=1) + (1 - self.alpha) * targets
            soft_t2i = self.alpha * F.softmax(txt_m @ img_all.t() / self.temp, dim=1) + (1 - self.alpha) * targets
        logits_i2t = img @ txt_all.t() / self.temp
        logits_t2i = txt @ img_all.t() / self.temp
        loss = -(F.log_softmax(logits_i2t, 1) * soft_i2t).sum(1).mean() - (F.log_softmax(logits_t2i, 1) * soft_t2i).sum(1).mean()
        self._enqueue(img_m, txt_m)
        self.log("train/itc", loss.item())
        return loss / 2

    def configure_optimizers(self):
        return torch.optim.AdamW(filter(lambda p: p.requires_grad, self.parameters()), lr=1e-3, weight_decay=0.02)


def main():
    pl.seed_everything(0)
    images = torch.randn(32, 12)
    texts = images[:, :10] + 0.1 * torch.randn(32, 10)
    loader = DataLoader(TensorDataset(images, texts), batch_size=8, shuffle=True, drop_last=True)
    model = MomentumAligner()
    m0 = model.image_enc_m.net[0].weight.detach().clone()
    t0 = model.temp.item()
    pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False).fit(model, loader)
    return ({"model": model},
            {"momentum_encoder_moved": not torch.equal(m0, model.image_enc_m.net[0].weight),
             "temperature_learned": model.temp.item() != t0})

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
