import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset


class TextCNN(nn.Module):
    def __init__(self, vocab=50, dim=16, classes=3, p_drop=0.3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, 16, 3, padding=1)
        self.dropout = nn.Dropout(p_drop)
        self.fc = nn.Linear(16, classes)

    def forward(self, ids):
        h = F.relu(self.conv(self.embed(ids).transpose(1, 2))).max(-1).values
        return self.fc(self.dropout(h))


def enable_mc_dropout(model):
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()


class ActiveLearner:
    def __init__(self, model, pool, cfg):
        self.model, self.pool, self.cfg = model, pool, cfg
        self.labeled = list(range(cfg["initial_labeled"]))
        self.unlabeled = list(range(cfg["initial_labeled"], len(pool)))
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.history = []

    def train_round(self):
        loader = DataLoader(Subset(self.pool, self.labeled), batch_size=8, shuffle=True)
        self.model.train()
        for _ in range(self.cfg["epochs_per_round"]):
            for ids, y in loader:
                loss = F.cross_entropy(self.model(ids), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.history.append(loss.item())

    @torch.no_grad()
    def bald_scores(self):
        enable_mc_dropout(self.model)
        ids = torch.stack([self.pool[i][0] for i in self.unlabeled])
        probs = torch.stack([F.softmax(self.model(ids), -1) for _ in range(self.cfg["mc_samples"])])
        mean = probs.mean(0)
        entropy = -(mean * mean.clamp_min(1e-8).log()).sum(-1)
        expected = -(probs * probs.clamp_min(1e-8).log()).sum(-1).mean(0)
        return entropy - expected

    def acquire(self):
        scores = self.bald_scores()
        top = scores.topk(self.cfg["acquire_per_round"]).indices.tolist()
        picked = [self.unlabeled[i] for i in top]
        self.labeled += picked
        self.unlabeled = [i for i in self.unlabeled if i not in picked]

    def run(self):
        for _ in range(self.cfg["rounds"]):
            self.train_round()
            self.acquire()
        self.train_round()


def review_pool(n=40, seq=6, vocab=50):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    y = (ids[:, 0] % 3)
    return TensorDataset(ids, y)


def main():
    torch.manual_seed(0)
    model = TextCNN()
    cfg = {"initial_labeled": 8, "lr": 3e-3, "epochs_per_round": 1, "mc_samples": 4, "acquire_per_round": 4, "rounds": 2}
    learner = ActiveLearner(model, review_pool(), cfg)
    fc0 = model.fc.weight.detach().clone()
    learner.run()
    return {"model": model}, {
        "classifier_changed": not torch.equal(fc0, model.fc.weight),
        "labeled_size": len(learner.labeled),
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
