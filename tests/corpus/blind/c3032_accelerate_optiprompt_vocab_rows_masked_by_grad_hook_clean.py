import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset

VOCAB, N_PROMPT = 30, 3


class TinyMaskedLM(nn.Module):
    def __init__(self, vocab=VOCAB, dim=16):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab + N_PROMPT, dim)
        layer = nn.TransformerEncoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.lm_head = nn.Linear(dim, vocab)

    def forward(self, ids):
        return self.lm_head(self.encoder(self.word_embeddings(ids)))


def keep_only_prompt_rows(grad):
    mask = torch.zeros_like(grad)
    mask[VOCAB:] = 1.0
    return grad * mask


def build_inputs(subjects):
    prompt_ids = torch.arange(VOCAB, VOCAB + N_PROMPT).expand(len(subjects), -1)
    mask_tok = torch.zeros(len(subjects), 1, dtype=torch.long)
    return torch.cat([subjects[:, None], prompt_ids, mask_tok], 1)


def main():
    set_seed(0)
    accelerator = Accelerator(cpu=True)
    model = TinyMaskedLM()
    for p in model.parameters():
        p.requires_grad = False
    model.word_embeddings.weight.requires_grad = True
    model.word_embeddings.weight.register_hook(keep_only_prompt_rows)
    optimizer = torch.optim.AdamW([{"params": model.word_embeddings.parameters()}], lr=1e-2, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.5, total_iters=8)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randint(1, VOCAB, (32,), generator=g), torch.randint(1, VOCAB, (32,), generator=g)),
                        batch_size=8, shuffle=True, generator=g)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    emb0 = model.word_embeddings.weight.detach().clone()
    for epoch in range(2):
        for subj, obj in loader:
            logits = model(build_inputs(subj))[:, -1]
            loss = F.cross_entropy(logits, obj)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
    emb = model.word_embeddings.weight.detach()
    facts = {"prompt_rows_changed": not torch.equal(emb0[VOCAB:], emb[VOCAB:]),
             "vocab_rows_changed": not torch.equal(emb0[:VOCAB], emb[:VOCAB])}
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
