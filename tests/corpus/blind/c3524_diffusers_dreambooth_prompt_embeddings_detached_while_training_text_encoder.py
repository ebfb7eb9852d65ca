import itertools
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler
from torch.utils.data import DataLoader, TensorDataset

ARGS = {"train_text_encoder": True, "lr": 1e-3, "prior_loss_weight": 1.0, "epochs": 2}


class ClipLikeTextEncoder(nn.Module):
    def __init__(self, vocab=40, dim=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.layer = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())

    def forward(self, input_ids):
        h = self.token_embedding(input_ids)
        return (h + self.layer(h),)


class CondDenoiser(ModelMixin):
    @register_to_config
    def __init__(self, channels=3, width=16, cond_dim=16, n_steps=100):
        super().__init__()
        self.t_embed = nn.Embedding(n_steps, width)
        self.cond = nn.Linear(cond_dim, width)
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, sample, t, encoder_hidden_states):
        emb = self.t_embed(t) + self.cond(encoder_hidden_states.mean(1))
        return self.conv_out(F.silu(self.conv_in(sample) + emb[:, :, None, None]))


def encode_prompt(text_encoder, input_ids):
    return text_encoder(input_ids)[0].detach()


def make_loader(n=24, bs=6):
    g = torch.Generator().manual_seed(32)
    imgs = torch.rand(n, 3, 8, 8, generator=g) * 2 - 1
    ids = torch.randint(0, 40, (n, 4), generator=g)
    ids[:, 0] = 7
    return DataLoader(TensorDataset(imgs, ids), batch_size=bs, shuffle=True)


def main():
    torch.manual_seed(0)
    args = ARGS
    text_encoder = ClipLikeTextEncoder()
    unet = CondDenoiser()
    noise_scheduler = DDPMScheduler(num_train_timesteps=100)
    if not args["train_text_encoder"]:
        text_encoder.requires_grad_(False)
    params = itertools.chain(unet.parameters(), text_encoder.parameters()) if args["train_text_encoder"] else unet.parameters()
    optimizer = torch.optim.AdamW(params, lr=args["lr"], weight_decay=0.0)
    lr_scheduler = get_scheduler("constant", optimizer)
    te0 = text_encoder.token_embedding.weight.detach().clone()
    un0 = unet.conv_in.weight.detach().clone()
    unet.train()
    text_encoder.train()
    for _ in range(args["epochs"]):
        for imgs, ids in make_loader():
            noise = torch.randn_like(imgs)
            t = torch.randint(0, 100, (imgs.shape[0],))
            encoder_hidden_states = encode_prompt(text_encoder, ids)
            pred = unet(noise_scheduler.add_noise(imgs, noise, t), t, encoder_hidden_states)
            loss = F.mse_loss(pred, noise)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad(set_to_none=False)
    return {"unet": unet}, {
        "text_encoder_changed": not torch.equal(te0, text_encoder.token_embedding.weight),
        "unet_changed": not torch.equal(un0, unet.conv_in.weight),
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
