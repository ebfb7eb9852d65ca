import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


class QuestionEncoder(nn.Module):
    def __init__(self, vocab=30, d=16):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, d)
        self.proj = nn.Linear(d, d)

    def forward(self, q_ids):
        return F.normalize(self.proj(self.embed(q_ids)), dim=-1)


class Generator(nn.Module):
    def __init__(self, vocab=30, d=16, n_answers=5):
        super().__init__()
        self.q_embed = nn.EmbeddingBag(vocab, d)
        self.out = nn.Sequential(nn.Linear(2 * d, 32), nn.ReLU(), nn.Linear(32, n_answers))

    def forward(self, q_ids, doc_vecs):
        q = self.q_embed(q_ids).unsqueeze(1).expand(-1, doc_vecs.size(1), -1)
        return self.out(torch.cat([q, doc_vecs], dim=-1))


class RAGModel(nn.Module):
    def __init__(self, doc_index, k=3):
        super().__init__()
        self.question_encoder = QuestionEncoder()
        self.generator = Generator()
        self.register_buffer("doc_index", doc_index)
        self.k = k

    def retrieve(self, q_ids):
        with torch.no_grad():
            q = self.question_encoder(q_ids)
            scores = q @ self.doc_index.T
            top = scores.topk(self.k, dim=1)
        return top.values, self.doc_index[top.indices]

    def forward(self, q_ids, answers):
        doc_scores, docs = self.retrieve(q_ids)
        doc_logprobs = doc_scores.log_softmax(dim=1)
        ans_logprobs = self.generator(q_ids, docs).log_softmax(dim=-1)
        picked = ans_logprobs.gather(2, answers[:, None, None].expand(-1, docs.size(1), 1)).squeeze(-1)
        return -torch.logsumexp(doc_logprobs + picked, dim=1).mean()


def train_one_epoch(model, loader, optimizer, accelerator):
    for q_ids, answers in loader:
        loss = model(q_ids, answers)
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    accelerator = Accelerator()
    g = torch.Generator().manual_seed(0)
    doc_index = F.normalize(torch.randn(12, 16, generator=g), dim=-1)
    q_ids = torch.randint(0, 30, (40, 4), generator=g)
    answers = q_ids[:, 0] % 5
    model = RAGModel(doc_index)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(q_ids, answers), batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    q0 = model.question_encoder.proj.weight.detach().clone()
    gen0 = model.generator.out[0].weight.detach().clone()
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, accelerator)
    return {"model": model}, {
        "question_encoder_changed": not torch.equal(q0, model.question_encoder.proj.weight),
        "generator_changed": not torch.equal(gen0, model.generator.out[0].weight),
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
