import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import weight_norm
from torch.utils.data import DataLoader, TensorDataset


class FCNet(nn.Module):
    def __init__(self, dims):
        super().__init__()
        layers = []
        for in_dim, out_dim in zip(dims[:-1], dims[1:]):
            layers += [weight_norm(nn.Linear(in_dim, out_dim), dim=None), nn.ReLU()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


class SimpleClassifier(nn.Module):
    def __init__(self, in_dim, hid_dim, out_dim, dropout):
        super().__init__()
        self.main = nn.Sequential(
            weight_norm(nn.Linear(in_dim, hid_dim), dim=None),
            nn.ReLU(),
            nn.Dropout(dropout, inplace=True),
            weight_norm(nn.Linear(hid_dim, out_dim), dim=None),
        )

    def forward(self, x):
        return self.main(x)


class RegionAttention(nn.Module):
    def __init__(self, v_dim, q_dim, hid):
        super().__init__()
        self.v_proj, self.q_proj = FCNet([v_dim, hid]), FCNet([q_dim, hid])
        self.linear = weight_norm(nn.Linear(hid, 1), dim=None)

    def forward(self, v, q):
        joint = self.v_proj(v) * self.q_proj(q).unsqueeze(1)
        return F.softmax(self.linear(joint), dim=1)


class BottomUpTopDown(nn.Module):
    def __init__(self, vocab=50, n_answers=12, v_dim=16, hid=24):
        super().__init__()
        self.w_emb = nn.Embedding(vocab, hid)
        self.q_emb = nn.GRU(hid, hid, batch_first=True)
        self.v_att = RegionAttention(v_dim, hid, hid)
        self.q_net, self.v_net = FCNet([hid, hid]), FCNet([v_dim, hid])
        self.classifier = SimpleClassifier(hid, 2 * hid, n_answers, dropout=0.5)

    def forward(self, v, q):
        _, h = self.q_emb(self.w_emb(q))
        q_repr = h[-1]
        att = self.v_att(v, q_repr)
        v_repr = (att * v).sum(dim=1)
        return self.classifier(self.q_net(q_repr) * self.v_net(v_repr))


def instance_bce_with_logits(logits, labels):
    return F.binary_cross_entropy_with_logits(logits, labels) * labels.size(1)


def train(model, loader, optimizer, epochs=1):
    model.train()
    for _ in range(epochs):
        for v, q, target in loader:
            pred = model(v, q)
            loss = instance_bce_with_logits(pred, target)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()
            optimizer.zero_grad()


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    v = torch.randn(40, 6, 16, generator=g)
    q = torch.randint(0, 50, (40, 7), generator=g)
    target = (torch.rand(40, 12, generator=g) > 0.8).float()
    loader = DataLoader(TensorDataset(v, q, target), batch_size=10, shuffle=True, generator=g)
    model = nn.DataParallel(BottomUpTopDown())
    optimizer = torch.optim.Adamax(model.parameters())
    train(model, loader, optimizer)
    return {"model": model.module}

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
