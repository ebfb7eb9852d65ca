import torch
import torch.nn as nn
import torch.nn.functional as F


class BagEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, dim))

    def forward(self, ids):
        h = self.embed(ids)
        return h, self.ff(h)


class BiEncoder(nn.Module):
    def __init__(self, question_model, ctx_model, fix_ctx_encoder=True):
        super().__init__()
        self.question_model, self.ctx_model = question_model, ctx_model
        self.fix_ctx_encoder = fix_ctx_encoder

    @staticmethod
    def get_representation(sub_model, ids, fix_encoder=False):
        if fix_encoder:
            with torch.no_grad():
                sequence_output, pooled_output = sub_model(ids)
            if sub_model.training:
                sequence_output.requires_grad_(requires_grad=True)
                pooled_output.requires_grad_(requires_grad=True)
        else:
            sequence_output, pooled_output = sub_model(ids)
        return pooled_output

    def forward(self, question_ids, ctx_ids):
        q = self.get_representation(self.question_model, question_ids)
        c = self.get_representation(self.ctx_model, ctx_ids, self.fix_ctx_encoder)
        return q, c


def in_batch_negative_loss(q, c, temperature=0.5):
    scores = q @ c.t() / temperature
    return F.cross_entropy(scores, torch.arange(q.shape[0]))


def qa_batches(n=6, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        topic = torch.randint(0, 10, (batch, 1), generator=g)
        questions = topic * 5 + torch.randint(0, 5, (batch, 4), generator=g)
        passages = topic * 5 + torch.randint(0, 5, (batch, 6), generator=g)
        yield questions, passages


def train(model, optimizer, epochs=2):
    model.train()
    history = []
    for epoch in range(epochs):
        for questions, passages in qa_batches(seed=epoch):
            q, c = model(questions, passages)
            loss = in_batch_negative_loss(q, c)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append(loss.item())
    return history


@torch.no_grad()
def top1_accuracy(model):
    model.eval()
    questions, passages = next(qa_batches(n=1, seed=42))
    q, c = model(questions, passages)
    model.train()
    return float(((q @ c.t()).argmax(dim=1) == torch.arange(len(q))).float().mean())


def main():
    torch.manual_seed(0)
    ctx_encoder = BagEncoder()
    model = BiEncoder(BagEncoder(), ctx_encoder, fix_ctx_encoder=True)
    q_before = model.question_model.ff[0].weight.detach().clone()
    ctx_before = ctx_encoder.ff[0].weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    history = train(model, optimizer)
    print("top-1", top1_accuracy(model))
    facts = {"question_encoder_changed": not torch.equal(q_before, model.question_model.ff[0].weight),
             "ctx_encoder_fixed": torch.equal(ctx_before, ctx_encoder.ff[0].weight)}
    return {"question_model": model.question_model}, facts

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
