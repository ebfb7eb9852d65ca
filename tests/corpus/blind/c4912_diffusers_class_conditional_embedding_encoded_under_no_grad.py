import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.optimization import get_scheduler


class ClassCondUNet(ModelMixin):
    @register_to_config
    def __init__(self, n_classes=5, hidden=16):
        super().__init__()
        self.class_embedding = nn.Embedding(n_classes + 1, hidden)  # last row = "null" class for CFG
        self.inp = nn.Conv2d(1, hidden, 3, padding=1)
        self.out = nn.Conv2d(hidden, 1, 3, padding=1)

    def forward(self, x, t, class_emb):
        h = self.inp(x) + class_emb[:, :, None, None] + (t.float() / 1000)[:, None, None, None]
        return self.out(F.silu(h))


@torch.no_grad()
def encode_condition(unet, labels, p_uncond, generator):
    """Label -> conditioning vector, with classifier-free-guidance label dropout."""
    drop = torch.rand(labels.shape[0], generator=generator) < p_uncond
    labels = torch.where(drop, torch.full_like(labels, unet.config.n_classes), labels)
    return unet.class_embedding(labels)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    unet = ClassCondUNet()
    sched = DDPMScheduler(num_train_timesteps=1000)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    lr_sched = get_scheduler("constant", optimizer)
    emb0, conv0 = unet.class_embedding.weight.detach().clone(), unet.inp.weight.detach().clone()
    for _ in range(6):
        images = torch.randn(8, 1, 8, 8, generator=g)
        labels = torch.randint(0, 5, (8,), generator=g)
        noise = torch.randn(images.shape, generator=g)
        t = torch.randint(0, 1000, (8,), generator=g)
        pred = unet(sched.add_noise(images, noise, t), t, encode_condition(unet, labels, 0.1, g))
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr_sched.step()
    return {"unet": unet}, {"class_embedding_changed": not torch.equal(emb0, unet.class_embedding.weight),
                            "unet_conv_changed": not torch.equal(conv0, unet.inp.weight)}

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
