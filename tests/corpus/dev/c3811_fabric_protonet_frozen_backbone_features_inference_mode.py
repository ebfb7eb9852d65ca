import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric


class ConvBackbone(nn.Module):
    """Stands in for a pretrained Conv-4 encoder that is kept frozen during episodic fine-tuning."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.net(x)


class ProjectionHead(nn.Module):
    def __init__(self, d_in=16, d_out=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, d_out))

    def forward(self, feats):
        return self.mlp(feats)


class FeatureCache:
    """Backbone features for an episode, computed without autograd since the backbone is frozen."""

    def __init__(self, backbone):
        self.backbone = backbone.eval()
        for p in self.backbone.parameters():
            p.requires_grad_(False)

    @torch.inference_mode()
    def __call__(self, images):
        return self.backbone(images)


def prototypical_loss(head, support, support_y, query, query_y, n_way):
    z_s, z_q = head(support), head(query)
    protos = torch.stack([z_s[support_y == c].mean(0) for c in range(n_way)])
    return F.cross_entropy(-torch.cdist(z_q, protos) ** 2, query_y)


def sample_episode(images, labels, n_way, k_shot, n_query, g):
    classes = torch.randperm(int(labels.max()) + 1, generator=g)[:n_way]
    s_idx, q_idx, s_y, q_y = [], [], [], []
    for new, c in enumerate(classes):
        idx = (labels == c).nonzero().squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        s_idx.append(idx[:k_shot])
        q_idx.append(idx[k_shot:k_shot + n_query])
        s_y += [new] * k_shot
        q_y += [new] * n_query
    return images[torch.cat(s_idx)], torch.tensor(s_y), images[torch.cat(q_idx)], torch.tensor(q_y)


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    labels = torch.arange(60) % 5
    images = 0.2 * torch.randn(60, 1, 8, 8)
    for c in range(5):
        images[labels == c, :, c:c + 3, 2:6] += 1.0
    cache = FeatureCache(ConvBackbone())
    head = ProjectionHead()
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
    head, optimizer = fabric.setup(head, optimizer)
    w0 = head.mlp[0].weight.detach().clone()
    g = torch.Generator().manual_seed(0)
    for _ in range(6):
        s, s_y, q, q_y = sample_episode(images, labels, n_way=3, k_shot=2, n_query=3, g=g)
        loss = prototypical_loss(head, cache(s), s_y, cache(q), q_y, n_way=3)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
    return {"head": head.module}, {"head_changed": not torch.equal(w0, head.mlp[0].weight)}

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
