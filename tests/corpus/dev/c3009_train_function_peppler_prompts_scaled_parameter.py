import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyLM(nn.Module):
    """Stand-in for a pretrained GPT-2: token embedding, one recurrent block, tied output layer."""

    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.block = nn.GRU(dim, dim, batch_first=True)
        self.ln_f = nn.LayerNorm(dim)

    def forward(self, inputs_embeds):
        h, _ = self.block(inputs_embeds)
        return self.ln_f(h) @ self.wte.weight.T


class ContinuousPromptRecommender(nn.Module):
    """PEPLER-style explanation generator: a user prompt and an item prompt are prepended to the words."""

    def __init__(self, lm, n_users, n_items, dim=16):
        super().__init__()
        self.lm = lm
        self.user_prompt = nn.Parameter(torch.randn(n_users, dim)) * 0.02
        self.item_prompt = nn.Parameter(torch.randn(n_items, dim)) * 0.02
        self.rating_head = nn.Linear(2 * dim, 1)

    def forward(self, user, item, words):
        u, i = self.user_prompt[user], self.item_prompt[item]
        embeds = torch.cat([u[:, None], i[:, None], self.lm.wte(words)], dim=1)
        logits = self.lm(embeds)[:, 1:-1]
        rating = self.rating_head(torch.cat([u, i], -1)).squeeze(-1)
        return logits, rating


def freeze_lm(model):
    for p in model.lm.parameters():
        p.requires_grad = False


def make_loader(n=48, n_users=6, n_items=5, length=5):
    g = torch.Generator().manual_seed(0)
    users = torch.randint(0, n_users, (n,), generator=g)
    items = torch.randint(0, n_items, (n,), generator=g)
    words = torch.randint(0, 50, (n, length), generator=g)
    ratings = torch.rand(n, generator=g) * 5
    return DataLoader(TensorDataset(users, items, words, ratings), batch_size=16, shuffle=True, generator=g)


def train(model, loader, optimizer, epochs=2):
    model.train()
    for _ in range(epochs):
        for user, item, words, rating in loader:
            logits, pred = model(user, item, words)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), words.reshape(-1)) + F.mse_loss(pred, rating)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = ContinuousPromptRecommender(TinyLM(), n_users=6, n_items=5)
    freeze_lm(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    prompt_before = model.user_prompt.detach().clone()
    train(model, make_loader(), optimizer)
    facts = {"user_prompt_is_leaf": model.user_prompt.is_leaf,
             "user_prompt_changed": not torch.equal(prompt_before, model.user_prompt),
             "user_prompt_in_parameters": any(p is model.user_prompt for p in model.parameters())}
    return {"model": model}, facts

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
