import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed

EPISODE = {"n_way": 4, "k_shot": 3, "n_query": 4, "img": 12, "episodes": 8, "lr": 1e-3, "classes_total": 10}


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))


class ProtoNet(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.encoder = nn.Sequential(conv_block(1, hidden), conv_block(hidden, hidden), nn.Flatten())
        self.log_scale = torch.tensor(math.log(10.0), requires_grad=True)

    def embed(self, x):
        return F.normalize(self.encoder(x), dim=-1)

    def forward(self, support, support_y, query, n_way):
        z_s, z_q = self.embed(support), self.embed(query)
        prototypes = torch.stack([z_s[support_y == c].mean(0) for c in range(n_way)])
        d2 = torch.cdist(z_q, prototypes).pow(2)
        return -self.log_scale.exp() * d2


class EpisodeSampler:
    """Omniglot-like synthetic classes: each class is a fixed random stroke pattern plus noise."""

    def __init__(self, cfg, seed=0):
        self.cfg = cfg
        self.g = torch.Generator().manual_seed(seed)
        self.templates = torch.randn(cfg["classes_total"], 1, cfg["img"], cfg["img"], generator=self.g)

    def sample(self):
        c = self.cfg
        classes = torch.randperm(c["classes_total"], generator=self.g)[: c["n_way"]]
        per = c["k_shot"] + c["n_query"]
        imgs = self.templates[classes].repeat_interleave(per, 0)
        imgs = imgs + 0.5 * torch.randn(imgs.shape, generator=self.g)
        labels = torch.arange(c["n_way"]).repeat_interleave(per)
        is_support = (torch.arange(len(labels)) % per) < c["k_shot"]
        return imgs[is_support], labels[is_support], imgs[~is_support], labels[~is_support]


def build_optimizer(model, cfg):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    return torch.optim.AdamW([
        {"params": decay, "weight_decay": 5e-4},
        {"params": no_decay, "weight_decay": 0.0},
    ], lr=cfg["lr"])


def train_episodes(model, optimizer, sampler, accelerator, cfg):
    model.train()
    accs = []
    for episode in range(cfg["episodes"]):
        support, support_y, query, query_y = sampler.sample()
        logits = model(support, support_y, query, cfg["n_way"])
        loss = F.cross_entropy(logits, query_y)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
        accs.append((logits.argmax(-1) == query_y).float().mean().item())
    return sum(accs) / len(accs)


@torch.no_grad()
def evaluate(model, sampler, cfg, episodes=3):
    model.eval()
    accs = []
    for _ in range(episodes):
        support, support_y, query, query_y = sampler.sample()
        accs.append((model(support, support_y, query, cfg["n_way"]).argmax(-1) == query_y).float().mean().item())
    return sum(accs) / len(accs)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = ProtoNet()
    optimizer = build_optimizer(model, EPISODE)
    model, optimizer = accelerator.prepare(model, optimizer)
    scale0 = model.log_scale.detach().clone()
    enc0 = model.encoder[0][0].weight.detach().clone()
    train_episodes(model, optimizer, EpisodeSampler(EPISODE, seed=0), accelerator, EPISODE)
    evaluate(model, EpisodeSampler(EPISODE, seed=1), EPISODE)
    return {"model": model, "log_scale": model.log_scale}, {
        "scale_changed": not torch.equal(scale0, model.log_scale.detach()),
        "encoder_changed": not torch.equal(enc0, model.encoder[0][0].weight),
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
