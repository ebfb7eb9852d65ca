import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from diffusers import DDPMScheduler
from torch.utils.data import DataLoader, Dataset

PROMPTS = ["a person walks forward", "a person jumps", "a person waves", "a person sits down"]


class FrozenTextEncoder(nn.Module):
    def __init__(self, vocab=64, dim=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)

    def tokenize(self, text):
        return torch.tensor([[sum(map(ord, w)) % 64 for w in text.split()]])

    def forward(self, text):
        return self.embed(self.tokenize(text))


class MotionDenoiser(nn.Module):
    def __init__(self, n_joints=6, frames=8, dim=16):
        super().__init__()
        self.text_encoder = FrozenTextEncoder(dim=dim)
        self.text_encoder.requires_grad_(False)
        self.text_proj = nn.Linear(dim, dim)
        self.in_proj = nn.Linear(n_joints, dim)
        self.time_embed = nn.Embedding(100, dim)
        self.layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.out_proj = nn.Linear(dim, n_joints)
        self._text_cache = {}

    def encode_text(self, prompts):
        embs = []
        for p in prompts:
            if p not in self._text_cache:
                with torch.no_grad():
                    feats = self.text_encoder(p)
                self._text_cache[p] = self.text_proj(feats)
            embs.append(self._text_cache[p])
        return torch.cat(embs, dim=0)

    def forward(self, motion, timesteps, prompts):
        cond = self.encode_text(prompts) + self.time_embed(timesteps)
        h = torch.cat([cond[:, None], self.in_proj(motion)], dim=1)
        return self.out_proj(self.layer(h)[:, 1:])


class MotionDataset(Dataset):
    def __init__(self, n=8, frames=8, n_joints=6):
        g = torch.Generator().manual_seed(0)
        self.motion = torch.randn(n, frames, n_joints, generator=g)

    def __len__(self):
        return len(self.motion)

    def __getitem__(self, i):
        return self.motion[i], PROMPTS[i % len(PROMPTS)]


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = MotionDenoiser()
    scheduler = DDPMScheduler(num_train_timesteps=100, beta_schedule="linear")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    loader = DataLoader(MotionDataset(), batch_size=4, shuffle=False)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.train()
    for motion, prompts in loader:
        optimizer.zero_grad()
        noise = torch.randn_like(motion)
        t = torch.randint(0, 100, (motion.shape[0],))
        pred = model(scheduler.add_noise(motion, noise, t), t, prompts)
        loss = F.mse_loss(pred, noise)
        accelerator.backward(loss)
        optimizer.step()
    return {"model": model}

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
