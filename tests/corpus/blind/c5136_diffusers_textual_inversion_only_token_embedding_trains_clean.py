import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import DDPMScheduler, ModelMixin, register_to_config
from diffusers.optimization import get_scheduler

ARGS = {"vocab": 30, "placeholder_id": 29, "init_id": 3, "lr": 5e-2, "steps": 8, "seq": 4}


class TinyTextEncoder(nn.Module):
    def __init__(self, vocab, d=16):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0, batch_first=True)
        self.final_norm = nn.LayerNorm(d)

    def forward(self, ids):
        return self.final_norm(self.layer(self.token_embedding(ids)))


class TinyCondUNet(ModelMixin):
    @register_to_config
    def __init__(self, sample_dim=12, d=16, num_train_timesteps=1000):
        super().__init__()
        self.t_emb = nn.Embedding(num_train_timesteps, d)
        self.inp = nn.Linear(sample_dim, d)
        self.cross = nn.Linear(d, d)
        self.out = nn.Linear(d, sample_dim)

    def forward(self, x, t, text):
        h = self.inp(x) + self.t_emb(t) + self.cross(text.mean(1))
        return self.out(torch.relu(h))


def main():
    torch.manual_seed(0)
    text_encoder, unet = TinyTextEncoder(ARGS["vocab"]), TinyCondUNet()
    noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
    with torch.no_grad():
        emb = text_encoder.token_embedding.weight
        emb[ARGS["placeholder_id"]] = emb[ARGS["init_id"]]
    orig_embeds = text_encoder.token_embedding.weight.detach().clone()
    unet.requires_grad_(False)
    text_encoder.layer.requires_grad_(False)
    text_encoder.final_norm.requires_grad_(False)
    optimizer = torch.optim.AdamW(text_encoder.token_embedding.parameters(), lr=ARGS["lr"], weight_decay=0.0)
    lr_scheduler = get_scheduler("constant", optimizer)
    layer0 = text_encoder.layer.linear1.weight.detach().clone()
    images = torch.randn(8, 12) + 2.0
    ids = torch.tensor([[1, 5, ARGS["placeholder_id"], 7]]).expand(8, -1)
    keep = torch.ones(ARGS["vocab"], dtype=torch.bool)
    keep[ARGS["placeholder_id"]] = False
    for _ in range(ARGS["steps"]):
        noise = torch.randn_like(images)
        t = torch.randint(0, 1000, (images.size(0),))
        pred = unet(noise_scheduler.add_noise(images, noise, t), t, text_encoder(ids))
        loss = F.mse_loss(pred, noise)
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
        with torch.no_grad():
            text_encoder.token_embedding.weight[keep] = orig_embeds[keep]
    pred = unet(noise_scheduler.add_noise(images, noise, t), t, text_encoder(ids))
    F.mse_loss(pred, noise).backward()
    w = text_encoder.token_embedding.weight
    return {"token_embedding": text_encoder.token_embedding}, {
        "placeholder_changed": not torch.equal(w[ARGS["placeholder_id"]], orig_embeds[ARGS["placeholder_id"]]),
        "other_tokens_unchanged": torch.equal(w[keep], orig_embeds[keep]),
        "text_layers_unchanged": torch.equal(layer0, text_encoder.layer.linear1.weight),
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
